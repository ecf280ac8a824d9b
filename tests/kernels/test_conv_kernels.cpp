// The CPU im2col / col2im and pooling kernels against direct loops: im2col against the
// definition, col2im as im2col's adjoint (<im2col(x), c> == <x, col2im(c)>), max and average
// pooling against brute-force windows (padding, stride, ceil-mode-sized outputs, adaptive).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/conv.h"

namespace mox {
namespace {

std::vector<double> random_values(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

constexpr int kCpu = int(DeviceType::CPU);

Conv2dGeom geom(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t s, int64_t p, int64_t d) {
  Conv2dGeom g{n, c, h, w, k, k + 1, s, s + 1, p, p + 1, d, d, 0, 0};
  g.oh = (h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  return g;
}

TEST_CASE("conv kernels: im2col matches its definition and col2im is its adjoint") {
  for (Conv2dGeom g : {geom(2, 3, 5, 6, 2, 1, 0, 1), geom(1, 2, 7, 7, 3, 2, 1, 2), geom(2, 1, 4, 9, 1, 1, 0, 1)}) {
    CAPTURE(g.kh); CAPTURE(g.sh); CAPTURE(g.ph); CAPTURE(g.dh);
    int64_t rows = g.c * g.kh * g.kw, ohw = g.oh * g.ow;
    std::vector<double> x = random_values(size_t(g.n * g.c * g.h * g.w), 4);
    std::vector<double> col(size_t(g.n * rows * ohw), NAN), c = random_values(col.size(), 5);
    im2col_stub.table[kCpu](DType::f64, g, x.data(), col.data());
    std::string bad;
    for (int64_t b = 0; b < g.n; ++b)
      for (int64_t ci = 0; ci < g.c; ++ci)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t oy = 0; oy < g.oh; ++oy)
              for (int64_t ox = 0; ox < g.ow; ++ox) {
                int64_t iy = oy * g.sh - g.ph + i * g.dh, ix = ox * g.sw - g.pw + j * g.dw;
                bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
                double want = inside ? x[size_t(((b * g.c + ci) * g.h + iy) * g.w + ix)] : 0;
                size_t at = size_t((b * rows + (ci * g.kh + i) * g.kw + j) * ohw + oy * g.ow + ox);
                if (bad.empty() && col[at] != want) bad = "col element " + std::to_string(at);
              }
    CHECK_MESSAGE(bad.empty(), bad);
    std::vector<double> back(x.size(), 0.0);
    col2im_stub.table[kCpu](DType::f64, g, c.data(), back.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < col.size(); ++i) lhs += col[i] * c[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * back[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
  }
}

// Brute force: every input position of a window, with the kernel's window rules spelled out.
void check_pool(Pool2dGeom g) {
  CAPTURE(g.kh); CAPTURE(g.sh); CAPTURE(g.ph); CAPTURE(g.adaptive); CAPTURE(g.count_include_pad);
  std::vector<double> x = random_values(size_t(g.planes * g.h * g.w), 6);
  size_t nout = size_t(g.planes * g.oh * g.ow);
  std::vector<double> mx(nout), avg(nout);
  std::vector<int64_t> idx(nout);
  if (!g.adaptive) max_pool2d_stub.table[kCpu](DType::f64, g, x.data(), mx.data(), idx.data());
  avg_pool2d_stub.table[kCpu](DType::f64, g, x.data(), avg.data());
  std::string bad;
  for (int64_t p = 0; p < g.planes; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        double best = -INFINITY, sum = 0;
        int64_t count = 0, padded = 0;
        for (int64_t iy = -g.ph - 1; iy <= g.h + g.ph; ++iy)
          for (int64_t ix = -g.pw - 1; ix <= g.w + g.pw; ++ix) {
            bool in_win;
            if (g.adaptive)
              in_win = iy >= oy * g.h / g.oh && iy * g.oh < (oy + 1) * g.h && ix >= ox * g.w / g.ow &&
                       ix * g.ow < (ox + 1) * g.w;
            else
              in_win = iy >= oy * g.sh - g.ph && iy < oy * g.sh - g.ph + g.kh && ix >= ox * g.sw - g.pw &&
                       ix < ox * g.sw - g.pw + g.kw;
            bool in_pad = iy >= -g.ph && iy < g.h + g.ph && ix >= -g.pw && ix < g.w + g.pw;
            if (!in_win || !in_pad) continue;
            ++padded;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            double v = x[size_t((p * g.h + iy) * g.w + ix)];
            best = std::max(best, v);
            sum += v;
            ++count;
          }
        size_t o = size_t((p * g.oh + oy) * g.ow + ox);
        double want_avg = sum / double(g.count_include_pad && !g.adaptive ? padded : count);
        if (bad.empty() && std::fabs(avg[o] - want_avg) > 1e-12) bad = "avg output " + std::to_string(o);
        if (!g.adaptive && bad.empty() && (mx[o] != best || x[size_t(p * g.h * g.w + idx[o])] != best))
          bad = "max output " + std::to_string(o);
      }
  CHECK_MESSAGE(bad.empty(), bad);
}

TEST_CASE("pool kernels: max and average pooling match brute-force windows") {
  //                planes h  w  oh ow kh kw sh sw ph pw  include_pad adaptive
  check_pool(Pool2dGeom{3, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, true, false});
  check_pool(Pool2dGeom{2, 7, 7, 4, 4, 3, 3, 2, 2, 1, 1, true, false});
  check_pool(Pool2dGeom{2, 7, 7, 4, 4, 3, 3, 2, 2, 1, 1, false, false});
  check_pool(Pool2dGeom{2, 6, 6, 4, 4, 3, 3, 2, 2, 1, 1, true, false});  // ceil-mode size
  check_pool(Pool2dGeom{2, 6, 6, 4, 4, 3, 3, 2, 2, 1, 1, false, false});
  check_pool(Pool2dGeom{1, 5, 6, 4, 2, 2, 3, 1, 2, 0, 0, true, false});
  check_pool(Pool2dGeom{2, 7, 5, 3, 2, 0, 0, 0, 0, 0, 0, true, true});
  check_pool(Pool2dGeom{1, 3, 3, 5, 4, 0, 0, 0, 0, 0, 0, true, true});
}

// f32 2x2 stride-2 max pooling has a vectorized path (on AVX-512); f64 takes the general loop.
// Values from a small set make ties common; NaNs and -inf test the scan-order rules.
TEST_CASE("pool kernels: the f32 2x2 max pooling path picks what the general loop picks") {
  for (int64_t w : {4, 9, 33, 70}) {
    CAPTURE(w);
    Pool2dGeom g{3, 7, w, 3, w / 2, 2, 2, 2, 2, 0, 0, true, false};
    std::mt19937 gen{static_cast<unsigned>(w)};
    std::uniform_int_distribution<int> pick(0, 9);
    std::vector<double> xd(size_t(g.planes * g.h * g.w));
    for (double& v : xd) {
      int r = pick(gen);
      v = r == 0 ? NAN : r == 1 ? -INFINITY : double(r % 3);
    }
    std::vector<float> xf(xd.begin(), xd.end());
    const size_t n = size_t(g.planes * g.oh * g.ow);
    std::vector<double> yd(n);
    std::vector<float> yf(n);
    std::vector<int64_t> id(n), jf(n);
    max_pool2d_stub.table[kCpu](DType::f64, g, xd.data(), yd.data(), id.data());
    max_pool2d_stub.table[kCpu](DType::f32, g, xf.data(), yf.data(), jf.data());
    std::string bad;
    for (size_t o = 0; o < n && bad.empty(); ++o)
      if (id[o] != jf[o] || !(yf[o] == float(yd[o]) || (std::isnan(yf[o]) && std::isnan(yd[o]))))
        bad = "output " + std::to_string(o);
    CHECK_MESSAGE(bad.empty(), bad);
  }
}

TEST_CASE("pool kernels: backward passes are the adjoints of the forward ones") {
  Pool2dGeom g{2, 6, 6, 4, 4, 3, 3, 2, 2, 1, 1, false, false};
  std::vector<double> x = random_values(size_t(g.planes * g.h * g.w), 7);
  std::vector<double> gy = random_values(size_t(g.planes * g.oh * g.ow), 8);
  std::vector<double> y(gy.size()), gx(x.size(), 0.0);
  std::vector<int64_t> idx(gy.size());
  for (bool adaptive : {false, true}) {
    g.adaptive = adaptive;
    avg_pool2d_stub.table[kCpu](DType::f64, g, x.data(), y.data());
    avg_pool2d_backward_stub.table[kCpu](DType::f64, g, gy.data(), gx.data());
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < y.size(); ++i) lhs += y[i] * gy[i];
    for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * gx[i];
    CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
  }
  g.adaptive = false;
  std::fill(gx.begin(), gx.end(), 0.0);
  max_pool2d_stub.table[kCpu](DType::f64, g, x.data(), y.data(), idx.data());
  max_pool2d_backward_stub.table[kCpu](DType::f64, g, gy.data(), idx.data(), gx.data());
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < y.size(); ++i) lhs += y[i] * gy[i];
  for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * gx[i];
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
}

TEST_CASE("conv kernels: reject integer dtypes") {
  Conv2dGeom g = geom(1, 1, 3, 3, 1, 1, 0, 1);
  std::vector<int32_t> x(9), col(9);
  CHECK_THROWS(im2col_stub.table[kCpu](DType::i32, g, x.data(), col.data()));
}

}  // namespace
}  // namespace mox
