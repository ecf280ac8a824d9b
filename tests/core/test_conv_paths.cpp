// conv2d's fast paths (implicit GEMM forward, weight gradient and stride-1 input gradient, the
// plain GEMM of 1x1 convolutions) against the simple one (im2col + GEMM + col2im) on ragged
// shapes: sizes that leave partial register tiles and panels, panels that straddle images,
// strides, rectangular kernels, padding beyond and within the kernel, dilation and groups;
// f32 (the vectorized gather and, for stride 1, the direct kernel) and f64 (the portable one),
// 1 and several threads.
#include <omp.h>

#include <algorithm>

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/linalg.h"
#include "tests/support/check.h"

namespace mox {
namespace {

struct Case {
  int64_t n, c, h, w, out_c, kh, kw, s, p, d, groups;
};

// The forward output and the three gradients of sum(conv2d(x, w, b) * gy).
TensorList run_conv(const Case& k, DType dt, ConvAlgorithm algo, const TensorList& inputs) {
  set_conv_algorithm(algo);
  Tensor x = inputs[0].detach().requires_grad_(true), w = inputs[1].detach().requires_grad_(true);
  Tensor b = inputs[2].detach().requires_grad_(true);
  Conv2dOptions o;
  o.stride[0] = k.s, o.stride[1] = k.s == 1 ? 1 : k.s - 1;
  o.padding[0] = k.p, o.padding[1] = k.p;
  o.dilation[0] = k.d, o.dilation[1] = 1;
  o.groups = k.groups;
  Tensor y = conv2d(x, w, b, o);
  mul(y, inputs[3].to(dt)).sum().backward();
  set_conv_algorithm(ConvAlgorithm::fastest);
  return {y.detach(), x.grad(), w.grad(), b.grad()};
}

void compare_paths(const Case& k, DType dt) {
  CAPTURE(k.n); CAPTURE(k.c); CAPTURE(k.h); CAPTURE(k.w); CAPTURE(k.out_c); CAPTURE(k.kh);
  CAPTURE(k.kw); CAPTURE(k.s); CAPTURE(k.p); CAPTURE(k.d); CAPTURE(k.groups);
  CAPTURE(std::string(dtype_name(dt)));
  Tensor x = randn({k.n, k.c, k.h, k.w}, opts(dt));
  Tensor w = randn({k.out_c, k.c / k.groups, k.kh, k.kw}, opts(dt));
  Tensor b = randn({k.out_c}, opts(dt));
  Tensor probe = run_conv(k, dt, ConvAlgorithm::im2col, {x, w, b, zeros({1}, opts(dt))})[0];
  Tensor gy = randn(probe.sizes(), opts(dt));
  TensorList simple = run_conv(k, dt, ConvAlgorithm::im2col, {x, w, b, gy});
  TensorList fast = run_conv(k, dt, ConvAlgorithm::fastest, {x, w, b, gy});
  const char* names[] = {"output", "input gradient", "weight gradient", "bias gradient"};
  for (int i = 0; i < 4; ++i) {
    CAPTURE(names[i]);
    // Sums over up to a few thousand products in a different order; Winograd's transforms round
    // at the scale of a tile's largest terms, not of each output (measured: 5e-6 of the largest
    // output; the other paths 1e-6).
    const double scale = amax(abs(simple[size_t(i)])).item();
    const test::Tolerance tol = dt == DType::f64 ? test::Tolerance{1e-10, 1e-10}
                                                 : test::Tolerance{1e-4, std::max(1e-4, 2e-5 * scale)};
    CHECK_ALLCLOSE(fast[size_t(i)], simple[size_t(i)], tol);
  }
}

const Case kCases[] = {
    {2, 3, 11, 13, 5, 3, 3, 1, 1, 1, 1},     // partial tiles everywhere, padding within the kernel
    {3, 5, 7, 9, 17, 3, 2, 1, 0, 1, 1},      // rectangular kernel, no padding
    {2, 4, 9, 8, 13, 3, 3, 2, 1, 1, 1},      // stride 2 (the input gradient takes col2im)
    {1, 6, 10, 12, 8, 3, 3, 1, 2, 2, 2},     // dilation and groups
    {2, 3, 8, 8, 7, 2, 2, 1, 2, 1, 1},       // padding beyond the kernel: col2im input gradient
    {5, 16, 6, 7, 40, 1, 1, 1, 0, 1, 1},     // 1x1: plain GEMM
    {3, 8, 7, 7, 12, 1, 1, 3, 0, 1, 1},      // 1x1 stride 3: implicit GEMM
    {4, 3, 23, 19, 33, 7, 5, 3, 3, 1, 1},    // a large first-layer kernel with stride
    {6, 12, 5, 5, 26, 3, 3, 1, 1, 1, 1},     // 25 positions per image: panels straddle images
    // Stride 1 on the direct kernels (f32): the input read in place, padded rows 8 wide (a vector
    // spans three output rows), groups, the seed CNN's second layer at a smaller size (it takes
    // Winograd); the last two also take the direct weight gradient (a partial block of taps and
    // of output channels, positions not a multiple of 16, groups).
    {2, 4, 10, 8, 19, 3, 1, 1, 0, 1, 1},
    {2, 8, 9, 12, 12, 3, 3, 1, 1, 1, 2},
    {3, 32, 14, 26, 64, 3, 3, 1, 0, 1, 1},
    {2, 5, 20, 21, 11, 2, 2, 1, 1, 1, 1},
    {2, 8, 18, 18, 20, 3, 3, 1, 1, 1, 2},
    // Winograd (f32, 3x3, 16 channels or more in and out; forward, input and weight gradients):
    // partial vectors of channels and of output channels, 1 to 4 vectors of output channels,
    // tiles cut by the output's edges, padding 1 and 2, several blocks of tile rows per image.
    {3, 16, 11, 13, 20, 3, 3, 1, 1, 1, 1},
    {1, 48, 14, 10, 64, 3, 3, 1, 0, 1, 1},
    {3, 24, 6, 9, 17, 3, 3, 1, 2, 1, 1},
    {2, 20, 40, 9, 36, 3, 3, 1, 1, 1, 1},
};

Conv2dGeom geom(const Case& k) {
  const int64_t sw = k.s == 1 ? 1 : k.s - 1;
  const int64_t oh = (k.h + 2 * k.p - k.d * (k.kh - 1) - 1) / k.s + 1, ow = (k.w + 2 * k.p - (k.kw - 1) - 1) / sw + 1;
  return {k.n, k.c, k.h, k.w, k.kh, k.kw, k.s, sw, k.p, k.p, k.d, 1, oh, ow};
}

// The cases above that are meant for the direct kernels reach them.
TEST_CASE("conv paths: the stride-1 cases reach the direct kernels where they run") {
  if (cpu::gemm_isa() != cpu::GemmIsa::avx512) return;
  int direct = 0, weight = 0;
  for (const Case& k : kCases) {
    const Conv2dGeom g = geom(k);
    if (cpu::conv_winograd_applies(g, k.groups, k.out_c)) continue;  // it comes first
    weight += cpu::conv_direct_weight_applies(g, k.groups);
    if (!cpu::conv_direct_applies(g, k.groups)) continue;
    ++direct;
    CHECK(cpu::conv_direct_applies(input_grad_geom(g, k.out_c), k.groups));  // the input gradient's convolution
  }
  CHECK(direct >= 6);
  CHECK(weight == 2);
}

TEST_CASE("conv paths: the Winograd cases reach the Winograd kernel, forward and input gradient") {
  if (cpu::gemm_isa() != cpu::GemmIsa::avx512) return;
  int winograd = 0;
  for (const Case& k : kCases) {
    const Conv2dGeom g = geom(k);
    if (!cpu::conv_winograd_applies(g, k.groups, k.out_c)) continue;
    ++winograd;
    CHECK(cpu::conv_winograd_applies(input_grad_geom(g, k.out_c), k.groups, k.c));
  }
  CHECK(winograd == 5);
}

TEST_CASE("conv paths: the fast paths match im2col on ragged shapes in f32 and f64") {
  manual_seed(7);
  for (const Case& k : kCases) {
    compare_paths(k, DType::f32);
    compare_paths(k, DType::f64);
  }
}

// Several threads split the weight gradient's images, each summing its own copy.
TEST_CASE("conv paths: one thread and several give the same result") {
  manual_seed(8);
  int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    compare_paths({4, 32, 14, 14, 48, 3, 3, 1, 1, 1, 1}, DType::f32);
    compare_paths({5, 8, 12, 12, 24, 3, 3, 1, 1, 1, 2}, DType::f32);  // images split unevenly, groups
    compare_paths({1, 16, 24, 24, 16, 3, 3, 1, 1, 1, 1}, DType::f32);  // one image: threads split its tiles
    compare_paths({4, 8, 20, 20, 16, 3, 3, 1, 1, 1, 1}, DType::f32);   // direct weight gradient per thread
  }
  omp_set_num_threads(saved);
}

// Conv2dOptions::relu against relu applied to conv2d's output, on every path: the direct kernel
// (f32, stride 1, 6 channels), Winograd (f32, stride 1, 16 channels), the packed implicit GEMM
// (f64, and stride 2), im2col.
TEST_CASE("conv paths: the fused relu is relu of the convolution, values and gradients") {
  manual_seed(10);
  for (ConvAlgorithm algo : {ConvAlgorithm::fastest, ConvAlgorithm::im2col})
    for (DType dt : {DType::f32, DType::f64})
      for (int64_t stride : {1, 2})
      for (int64_t channels : {6, 16}) {
        CAPTURE(int(algo)); CAPTURE(std::string(dtype_name(dt))); CAPTURE(stride); CAPTURE(channels);
        set_conv_algorithm(algo);
        Tensor x0 = randn({2, channels, 13, 12}, opts(dt)), w0 = randn({channels + 5, channels, 3, 3}, opts(dt));
        Tensor b0 = randn({channels + 5}, opts(dt));
        Conv2dOptions o;
        o.stride[0] = o.stride[1] = stride;
        o.padding[0] = o.padding[1] = 1;
        const Tensor gy = randn(conv2d(x0, w0, b0, o).sizes(), opts(dt));
        auto grads = [&](bool fused) {
          Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
          Tensor b = b0.detach().requires_grad_(true);
          Conv2dOptions f = o;
          f.relu = fused;
          Tensor y = fused ? conv2d(x, w, b, f) : relu(conv2d(x, w, b, o));
          mul(y, gy).sum().backward();
          return TensorList{y.detach(), x.grad(), w.grad(), b.grad()};
        };
        TensorList fused = grads(true), plain = grads(false);
        const test::Tolerance tol{1e-5, 1e-5};
        for (size_t i = 0; i < 4; ++i) {
          CAPTURE(i);
          CHECK_ALLCLOSE(fused[i], plain[i], tol);
        }
      }
  set_conv_algorithm(ConvAlgorithm::fastest);
}

TEST_CASE("conv paths: the f64 fast path passes the numerical gradient check") {
  manual_seed(9);
  Tensor x = randn({2, 3, 6, 5}, opts(DType::f64)).requires_grad_(true);
  Tensor w = randn({4, 3, 3, 2}, opts(DType::f64)).requires_grad_(true);
  Tensor b = randn({4}, opts(DType::f64)).requires_grad_(true);
  Conv2dOptions o;
  o.padding[0] = o.padding[1] = 1;
  std::string err = test::gradcheck([&](const TensorList& t) { return TensorList{conv2d(t[0], t[1], t[2], o)}; },
                                    {x, w, b});
  CHECK_MESSAGE(err.empty(), err);
  o.relu = true;
  err = test::gradcheck([&](const TensorList& t) { return TensorList{conv2d(t[0], t[1], t[2], o)}; }, {x, w, b});
  CHECK_MESSAGE(err.empty(), err);
}

}  // namespace
}  // namespace mox
