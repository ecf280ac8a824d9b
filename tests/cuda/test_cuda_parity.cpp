// The CUDA kernels against the CPU's, on device cuda:0. Two programs compile this file:
// mox_tests, where the suite is "gpu" (CTest label gpu) and each case returns early, saying
// so, on a machine without a GPU; and mox_cuda_emu_tests (tests/cuda_emu/), where the CUDA
// kernels are built by g++ against the emulator of kernels/emu, the suite is "emu", and the
// emulated device always exists, so every case runs in every test run.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "kernels/runtime.h"
#include "tests/support/check.h"

#ifndef MOX_CUDA_PARITY_SUITE
#define MOX_CUDA_PARITY_SUITE "gpu"
#endif

namespace mox::test {
namespace {

const Device kCpu = Device::cpu();
const Device kGpu = Device::cuda(0);

bool have_gpu() { return device_count(DeviceType::CUDA) > 0; }

#define MOX_REQUIRE_GPU()          \
  if (!have_gpu()) {               \
    MESSAGE("no GPU: skipped");    \
    return;                        \
  }

// Deterministic values in [lo, hi).
Tensor values(const Shape& shape, double lo, double hi, DType dt = DType::f32, int seed = 0) {
  std::vector<double> v(size_t(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) {
    double u = std::sin(12.9898 * double(i + 1) + 78.233 * seed) * 43758.5453;
    v[i] = lo + (hi - lo) * (u - std::floor(u));
  }
  return from_vector(v, shape, opts(dt));
}

}  // namespace

TEST_SUITE(MOX_CUDA_PARITY_SUITE) {

// No commas in these names: doctest_discover_tests looks a case's suite (its CTest label) up
// with an unescaped --test-case filter, which splits at commas and leaves the case unlabelled.

TEST_CASE("cuda: to(Device) round trips and memory accounting") {
  MOX_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64,
                   DType::u8, DType::boolean}) {
    CAPTURE(std::string(dtype_name(dt)));
    Tensor x = values({3, 17}, -4, 4, DType::f64).to(dt);
    Tensor g = x.to(kGpu);
    CHECK(g.device() == kGpu);
    CHECK(g.dtype() == dt);
    CHECK(g.tolist() == x.tolist());
    CHECK(g.to(kCpu).tolist() == x.tolist());
    CHECK(x.t().to(kGpu).to(kCpu).tolist() == x.t().tolist());  // non-contiguous source
  }
  int64_t before = memory_stats(kGpu).current_bytes;
  {
    Tensor big = zeros({1 << 20}, opts(DType::f32, kGpu));
    CHECK(memory_stats(kGpu).current_bytes >= before + (int64_t(1) << 22));
  }
  CHECK(memory_stats(kGpu).current_bytes == before);
  synchronize(kGpu);
}

TEST_CASE("cuda: fill for every dtype on dense and strided tensors") {
  MOX_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16, DType::i32, DType::i64,
                   DType::u8, DType::boolean}) {
    CAPTURE(std::string(dtype_name(dt)));
    double v = dt == DType::boolean ? 1 : 3.25;
    CHECK(full({5, 7}, v, opts(dt, kGpu)).tolist() == full({5, 7}, v, opts(dt)).tolist());
    Tensor g = zeros({6, 4}, opts(dt, kGpu)), c = zeros({6, 4}, opts(dt));
    g.t().select(0, 1).fill_(v);  // a strided column goes through the copy kernel
    c.t().select(0, 1).fill_(v);
    CHECK(g.tolist() == c.tolist());
  }
}

TEST_CASE("cuda: binary ops with broadcasting plus comparisons and where") {
  MOX_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::f16}) {
    CAPTURE(std::string(dtype_name(dt)));
    Tensor a = values({4, 1, 3}, 1, 9, DType::f64, 1).to(dt);
    Tensor b = values({5, 1}, 1, 9, DType::f64, 2).to(dt);
    Tensor bt = values({3, 5}, 1, 9, DType::f64, 3).to(dt).t();  // [5, 3], strided
    Tensor ag = a.to(kGpu), bg = b.to(kGpu), btg = bt.to(kGpu).t().contiguous().t();
    Tolerance tol = tolerance_for(dt);
    CHECK_ALLCLOSE(add(ag, bg), add(a, b), tol);
    CHECK_ALLCLOSE(sub(ag, btg), sub(a, bt), tol);
    CHECK_ALLCLOSE(mul(ag, bg), mul(a, b), tol);
    CHECK_ALLCLOSE(maximum(ag, btg), maximum(a, bt), tol);
    if (is_floating(dt)) {
      CHECK_ALLCLOSE(div(ag, bg), div(a, b), tol);
      CHECK_ALLCLOSE(pow(ag, btg), pow(a, bt), tol);
    }
    Tensor lt_g = lt(ag, btg), lt_c = lt(a, bt);
    CHECK(lt_g.dtype() == DType::boolean);
    CHECK(lt_g.tolist() == lt_c.tolist());
    CHECK(eq(ag, ag).tolist() == eq(a, a).tolist());
    CHECK_ALLCLOSE(where(lt_g, ag, bg), where(lt_c, a, b), tol);
  }
}

TEST_CASE("cuda: unary ops and their backward match the CPU") {
  MOX_REQUIRE_GPU();
  using UnaryFnPtr = Tensor (*)(const Tensor&);
  const std::pair<const char*, UnaryFnPtr> ops[] = {
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(abs(x)); }},
      {"sqrt", [](const Tensor& x) { return sqrt(add(abs(x), 0.5)); }},
      {"rsqrt", [](const Tensor& x) { return rsqrt(add(abs(x), 0.5)); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -1, 1.5); }},
      {"pow", [](const Tensor& x) { return pow(abs(x), 2.5); }},
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const auto& [name, f] : ops) {
      CAPTURE(std::string(name));
      CAPTURE(std::string(dtype_name(dt)));
      Tensor x = values({7, 9}, -3, 3, dt);
      Tensor g = values({7, 9}, -1, 1, dt, 5);
      Tensor xc = x.clone().requires_grad_(true);
      Tensor yc = f(xc);
      yc.backward(g);
      Tensor xg = x.to(kGpu).requires_grad_(true);
      Tensor yg = f(xg);
      CHECK(yg.device() == kGpu);
      yg.backward(g.to(kGpu));
      Tolerance tol = tolerance_for(dt);
      CHECK_ALLCLOSE(yg, yc, tol);
      REQUIRE(xg.grad().defined());
      CHECK(xg.grad().device() == kGpu);
      CHECK_ALLCLOSE(xg.grad(), xc.grad(), tol);
    }
  }
  // Strided input: the unary kernel's index path.
  Tensor x = values({6, 8}, -2, 2).t();
  CHECK_ALLCLOSE(tanh(x.to(kGpu).t().contiguous().t()), tanh(x), tolerance_for(DType::f32));
}

TEST_CASE("cuda: casts between every dtype match the CPU bit for bit") {
  MOX_REQUIRE_GPU();
  const DType all[] = {DType::f32, DType::f64, DType::f16, DType::bf16,
                       DType::i32, DType::i64, DType::u8,  DType::boolean};
  Tensor base = values({4, 33}, 0, 200, DType::f64);
  for (DType from : all) {
    for (DType to : all) {
      CAPTURE(std::string(dtype_name(from)));
      CAPTURE(std::string(dtype_name(to)));
      Tensor x = base.to(from);
      CHECK(x.to(kGpu).to(to).tolist() == x.to(to).tolist());
      CHECK(x.t().to(kGpu).to(to).tolist() == x.t().to(to).tolist());
    }
  }
  // f32 -> f16 -> f32 through the 16-bit rounding, including ties, subnormals and overflow.
  std::vector<double> v = {0.0, -0.0, 1.0 + 1.0 / 2048, 1.0 + 3.0 / 2048, 65504, 65519, 65520,
                           1e-7, -3e-8, 6.1e-5, 1e30, -1e30, 0.333333, 1.0 / 3};
  Tensor f = from_vector(v, {int64_t(v.size())});
  for (DType half : {DType::f16, DType::bf16}) {
    CAPTURE(std::string(dtype_name(half)));
    Tensor on_gpu = f.to(kGpu).to(half).to(DType::f32).to(kCpu);
    Tensor on_cpu = f.to(half).to(DType::f32);
    CHECK(on_gpu.tolist() == on_cpu.tolist());
  }
}

}  // TEST_SUITE(MOX_CUDA_PARITY_SUITE)

}  // namespace mox::test
