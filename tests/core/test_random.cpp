// The random family and the ops that draw from it: Philox 4x32-10 against the Random123
// known-answer vectors, reproducibility (seed, offset, thread count), distribution checks for
// rand/randn/uniform/normal/randint, dropout's mask, scale and gradient, and batch_norm's
// running statistics and eval mode against hand-computed values.
#include <omp.h>

#include <cmath>
#include <set>

#include "core/ops/random.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

struct MeanStd {
  double mean, std;
};
MeanStd mean_std(const Tensor& t) {
  std::vector<double> v = t.tolist();
  double s = 0, ss = 0;
  for (double x : v) s += x;
  double m = s / double(v.size());
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / double(v.size()))};
}

// Runs f with the given OpenMP thread count, restoring the previous one.
template <class F>
auto with_threads(int n, F f) {
  int prev = omp_get_max_threads();
  omp_set_num_threads(n);
  auto r = f();
  omp_set_num_threads(prev);
  return r;
}

}  // namespace

TEST_CASE("random: Philox4x32-10 matches the Random123 known-answer vectors") {
  struct Kat {
    philox::Words ctr;
    uint32_t k0, k1;
    philox::Words expected;
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}}, 0xffffffffu, 0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const Kat& k : kats) {
    philox::Words got = philox::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == k.expected.v[i]);
  }
}

TEST_CASE("random: element i comes from counter offset + i / k under key = seed") {
  manual_seed(1234);
  Tensor a = rand({9});
  std::vector<double> v = a.tolist();
  for (int i = 0; i < 9; ++i) {
    philox::Words w = philox::draw(1234, uint64_t(i / 4));
    CHECK(v[size_t(i)] == double(philox::to_float01(w.v[i % 4])));
  }
  CHECK(philox_state().offset == 3);  // ceil(9 / 4) counters used
  Tensor b = rand({3});
  philox::Words w = philox::draw(1234, 3);
  CHECK(b.tolist()[0] == double(philox::to_float01(w.v[0])));
  CHECK(philox_state().offset == 4);
  randn({5}, opts(DType::f64));  // 2 doubles per counter
  CHECK(philox_state().offset == 7);
  randint(0, 10, {5});  // 2 integers per counter
  CHECK(philox_state().offset == 10);
  rand({0});
  CHECK(philox_state().offset == 10);
  manual_seed(99);
  CHECK(philox_state().seed == 99);
  CHECK(philox_state().offset == 0);
}

TEST_CASE("random: the same seed gives the same values, another seed or call different ones") {
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16}) {
    INFO(dtype_name(dt));
    manual_seed(42);
    Tensor a = rand({1000}, opts(dt)), n1 = randn({333}, opts(dt)), a2 = rand({1000}, opts(dt));
    manual_seed(42);
    Tensor b = rand({1000}, opts(dt)), n2 = randn({333}, opts(dt));
    CHECK(a.dtype() == dt);
    CHECK(a.tolist() == b.tolist());
    CHECK(n1.tolist() == n2.tolist());
    CHECK(a.tolist() != a2.tolist());
    manual_seed(43);
    CHECK(rand({1000}, opts(dt)).tolist() != a.tolist());
  }
  manual_seed(3);
  Tensor r1 = randint(0, 1000, {500});
  manual_seed(3);
  CHECK(randint(0, 1000, {500}).tolist() == r1.tolist());
}

TEST_CASE("random: results are identical for 1 and 2 threads") {
  int64_t n = 100003;  // above the parallel grain, not a multiple of 4
  auto draw_all = [n] {
    manual_seed(2024);
    TensorList r{rand({n}), randn({n}), rand({n}, opts(DType::f64)), normal({n}, 1, 2, opts(DType::f64)),
                 randint(-5, 1000, {n}), uniform({n}, -3, 3, opts(DType::f16)),
                 dropout(ones({n}), 0.4)};
    Tensor x = randn({16, 4, 40, 41}, opts(DType::f64)).requires_grad_(true);
    Tensor w = rand({4}, opts(DType::f64)).requires_grad_(true);
    Tensor y = batch_norm(x, w, Tensor(), Tensor(), Tensor(), true);
    y.backward(randn(y.sizes(), opts(DType::f64)));
    r.push_back(y);
    r.push_back(x.grad());
    r.push_back(w.grad());
    return r;
  };
  TensorList one = with_threads(1, draw_all), two = with_threads(2, draw_all);
  REQUIRE(one.size() == two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    INFO("tensor ", i);
    CHECK(one[i].tolist() == two[i].tolist());
  }
}

TEST_CASE("random: randn and normal have the right mean and std on 100k samples") {
  manual_seed(7);
  const int64_t n = 100000;
  double se = 1 / std::sqrt(double(n));  // standard error of the mean for unit std
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(dtype_name(dt));
    MeanStd s = mean_std(randn({n}, opts(dt)));
    CHECK(std::fabs(s.mean) < 5 * se);
    CHECK(std::fabs(s.std - 1) < 0.01);
    MeanStd t = mean_std(normal({n}, 3, 2, opts(dt)));
    CHECK(std::fabs(t.mean - 3) < 10 * se);
    CHECK(std::fabs(t.std - 2) < 0.02);
  }
  // Tails: about 0.27% of a standard normal lies beyond 3 sigma.
  std::vector<double> v = randn({n}).tolist();
  int64_t beyond = 0;
  for (double x : v) beyond += std::fabs(x) > 3;
  CHECK(beyond > 170);
  CHECK(beyond < 370);
  MeanStd z = mean_std(normal({1000}, 1.5, 0));
  CHECK(z.mean == 1.5);
  CHECK(z.std == 0);
}

TEST_CASE("random: rand and uniform stay within lo..hi and fill it evenly") {
  manual_seed(11);
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16}) {
    INFO(dtype_name(dt));
    std::vector<double> r = rand({100000}, opts(dt)).tolist();
    double lo = 1, hi = 0;
    for (double x : r) lo = std::min(lo, x), hi = std::max(hi, x);
    CHECK(lo >= 0);
    CHECK(hi < 1);
    CHECK(lo < 0.01);
    CHECK(hi > 0.99);
    std::vector<double> u = uniform({100000}, -2, 3, opts(dt)).tolist();
    int64_t below_half = 0, outside = 0;
    for (double x : u) {
      outside += !(x >= -2 && x < 3);
      below_half += x < 0.5;
    }
    CHECK(outside == 0);
    CHECK(std::fabs(double(below_half) / 1e5 - 0.5) < 0.01);
  }
  CHECK(uniform({4}, 2, 2).tolist() == std::vector<double>(4, 2.0));
  Tensor g = rand({3}, opts(DType::f32, Device::cpu(), true));
  CHECK(g.requires_grad());
}

TEST_CASE("random: randint stays within lo..hi and hits every value, in every dtype") {
  manual_seed(5);
  for (DType dt : {DType::i64, DType::i32, DType::u8, DType::f32, DType::f64, DType::f16, DType::bf16}) {
    INFO(dtype_name(dt));
    int64_t lo = dt == DType::u8 ? 0 : -3, hi = lo + 7;
    Tensor t = randint(lo, hi, {10000}, opts(dt));
    CHECK(t.dtype() == dt);
    std::set<double> seen;
    for (double x : t.tolist()) seen.insert(x);
    std::set<double> all;
    for (int64_t v = lo; v < hi; ++v) all.insert(double(v));
    CHECK(seen == all);  // in range, integral, and every value hit
  }
  std::set<double> bits;
  for (double x : randint(0, 2, {100}, opts(DType::boolean)).tolist()) bits.insert(x);
  CHECK(bits == std::set<double>{0, 1});
  // A range wider than 32 bits.
  int64_t big = int64_t(1) << 40;
  std::vector<double> w = randint(-big, big, {1000}).tolist();
  double lo_seen = 0, hi_seen = 0;
  for (double x : w) lo_seen = std::min(lo_seen, x), hi_seen = std::max(hi_seen, x);
  CHECK(lo_seen >= double(-big));
  CHECK(hi_seen < double(big));
  CHECK(lo_seen < -double(big) / 2);
  CHECK(hi_seen > double(big) / 2);
}

TEST_CASE("random: dropout keeps about 1 - p, scales survivors and its gradient is the mask") {
  const int64_t n = 200000;
  const double p = 0.3, scale = 1 / (1 - p);
  manual_seed(21);
  Tensor x = (randn({n}) + 5.0).detach().requires_grad_(true);
  manual_seed(8);
  Tensor y = dropout(x, p);
  y.backward(ones({n}));
  std::vector<double> xv = x.tolist(), yv = y.tolist(), gv = x.grad().tolist();
  int64_t kept = 0, bad_value = 0, bad_grad = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool keep = yv[size_t(i)] != 0;
    kept += keep;
    double expected = keep ? double(float(xv[size_t(i)]) * float(scale)) : 0.0;
    bad_value += !(std::fabs(yv[size_t(i)] - expected) <= 1e-6 * std::fabs(expected));
    bad_grad += gv[size_t(i)] != (keep ? double(float(scale)) : 0.0);
  }
  CHECK(bad_value == 0);  // survivors are x / (1 - p)
  CHECK(bad_grad == 0);   // the gradient is mask * scale
  CHECK(std::fabs(double(kept) / double(n) - (1 - p)) < 0.01);
  // The same seed reproduces the mask, whatever the dtype.
  manual_seed(8);
  CHECK(dropout(x.detach(), p).tolist() == yv);
  for (DType dt : {DType::f64, DType::f16}) {
    manual_seed(8);
    std::vector<double> m = dropout(ones({n}, opts(dt)), p).tolist();
    bool same = true;
    for (int64_t i = 0; i < n; ++i) same = same && ((m[size_t(i)] != 0) == (yv[size_t(i)] != 0));
    CHECK_MESSAGE(same, dtype_name(dt));
  }
  // Identity when not training or p == 0; zeros (and zero gradient) when p == 1.
  CHECK(dropout(x, 0.5, false).is_same(x));
  CHECK(dropout(x, 0.0).is_same(x));
  Tensor z = dropout(x, 1.0);
  CHECK(z.tolist() == std::vector<double>(size_t(n), 0.0));
  x.zero_grad();
  z.backward(ones({n}));
  CHECK(x.grad().tolist() == std::vector<double>(size_t(n), 0.0));
}

TEST_CASE("random: dropout passes gradcheck with a fixed seed") {
  Tensor x = randn({5, 7}, opts(DType::f64)).requires_grad_(true);
  for (double p : {0.2, 0.5, 0.9}) {
    std::string msg = gradcheck(
        [p](const TensorList& in) {
          manual_seed(17);
          return TensorList{dropout(in[0], p)};
        },
        {x});
    CHECK_MESSAGE(msg.empty(), "p ", p, ": ", msg);
  }
}

TEST_CASE("random: batch_norm updates running stats like PyTorch over two steps") {
  // x [N=3, C=2, L=2], channel c of sample n holds values a, b.
  const std::vector<double> x1 = {1, 2, 10, 20, 3, 5, 30, 0, -1, 4, 5, 5};
  const std::vector<double> x2 = {0, 0, 1, 1, 2, 6, -1, 3, 4, 4, 2, 2};
  const double momentum = 0.25, eps = 1e-5;
  double rm[2] = {0, 0}, rv[2] = {1, 1};
  Tensor running_mean = zeros({2}), running_var = ones({2});
  uint64_t version0 = running_mean.version();
  for (const auto& xv : {x1, x2}) {
    Tensor x = from_vector(xv, {3, 2, 2});
    Tensor y = batch_norm(x, Tensor(), Tensor(), running_mean, running_var, true, momentum, eps);
    std::vector<double> yv = y.tolist();
    for (int c = 0; c < 2; ++c) {
      std::vector<double> vals;
      for (int n = 0; n < 3; ++n)
        for (int l = 0; l < 2; ++l) vals.push_back(xv[size_t(n * 4 + c * 2 + l)]);
      double m = 0, ss = 0;
      for (double v : vals) m += v;
      m /= 6;
      for (double v : vals) ss += (v - m) * (v - m);
      double var_b = ss / 6, var_u = ss / 5;
      rm[c] = (1 - momentum) * rm[c] + momentum * m;
      rv[c] = (1 - momentum) * rv[c] + momentum * var_u;
      for (int n = 0; n < 3; ++n)
        for (int l = 0; l < 2; ++l) {
          size_t i = size_t(n * 4 + c * 2 + l);
          CHECK(yv[i] == doctest::Approx((xv[i] - m) / std::sqrt(var_b + eps)).epsilon(1e-5));
        }
    }
  }
  for (int c = 0; c < 2; ++c) {
    CHECK(running_mean.tolist()[size_t(c)] == doctest::Approx(rm[c]).epsilon(1e-6));
    CHECK(running_var.tolist()[size_t(c)] == doctest::Approx(rv[c]).epsilon(1e-6));
  }
  CHECK(running_mean.version() == version0 + 2);
}

TEST_CASE("random: batch_norm in eval mode normalizes with the running stats") {
  Tensor x = randn({4, 3, 2, 2});
  Tensor rm = from_vector({0.5, -1, 2}, {3}), rv = from_vector({4, 0.25, 1}, {3});
  Tensor w = from_vector({2, 1, -1}, {3}), b = from_vector({0, 1, 3}, {3});
  Tensor rm0 = rm.clone(), rv0 = rv.clone();
  std::vector<double> xv = x.tolist();
  for (DType dt : {DType::f32, DType::f64, DType::f16}) {
    INFO(dtype_name(dt));
    Tensor y = batch_norm(x.to(dt), w, b, rm, rv, false, 0.1, 1e-3);
    CHECK(y.dtype() == dt);
    std::vector<double> yv = y.tolist(), rmv = rm.tolist(), rvv = rv.tolist(), wv = w.tolist(),
                        bv = b.tolist();
    double tol = dt == DType::f16 ? 1e-2 : 1e-5;
    for (size_t i = 0; i < xv.size(); ++i) {
      size_t c = (i / 4) % 3;
      double e = (xv[i] - rmv[c]) / std::sqrt(rvv[c] + 1e-3) * wv[c] + bv[c];
      CHECK(std::fabs(yv[i] - e) <= tol * (1 + std::fabs(e)));
    }
  }
  // Eval mode leaves the running stats alone.
  CHECK(rm.tolist() == rm0.tolist());
  CHECK(rv.tolist() == rv0.tolist());
  // Its gradient is the affine map: dx = g * w / sqrt(rv + eps).
  Tensor xg = x.detach().requires_grad_(true);
  batch_norm(xg, w, b, rm, rv, false, 0.1, 1e-3).backward(ones(x.sizes()));
  std::vector<double> gv = xg.grad().tolist();
  for (size_t i = 0; i < gv.size(); ++i) {
    size_t c = (i / 4) % 3;
    CHECK(gv[i] == doctest::Approx(w.tolist()[c] / std::sqrt(rv.tolist()[c] + 1e-3)).epsilon(1e-5));
  }
}

}  // namespace mox::test
