// The CUDA backend. Suite "gpu" (CTest label gpu) runs the CUDA kernels against the CPU's and
// returns early, saying so, on a machine without a GPU; the other cases run everywhere: device
// counting and allocation errors, the kernel registrations, CUDA failures surfacing as
// exceptions, and the kernels' 32-bit strided indexing (kernels/cuda/indexing.h), on the host.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "kernels/cuda/indexing.h"
#include "kernels/elementwise.h"
#include "kernels/runtime.h"
#include "tests/support/check.h"

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

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

// ---- everywhere

TEST_CASE("cuda: device count and allocation on a missing device") {
  int n = -1;
  CHECK_NOTHROW(n = device_count(DeviceType::CUDA));
  CHECK(n >= 0);
  // No NVIDIA driver node, no device: the count is 0, not an error.
  if (!std::filesystem::exists("/dev/nvidiactl")) CHECK(n == 0);
  CHECK(device_count(DeviceType::CUDA) == n);  // cached, stable
  std::string missing = Device::cuda(n).str();  // cuda:0 here
  CHECK_THROWS_WITH_AS(empty({4}, opts(DType::f32, Device::cuda(n))),
                       doctest::Contains(missing.c_str()), DeviceError);
  CHECK_THROWS_AS(zeros({2, 2}, opts(DType::f32, Device::cuda(-1))), DeviceError);
}

TEST_CASE("cuda: kernels and runtime are registered when built with CUDA") {
  const int slot = int(DeviceType::CUDA);
#ifdef MOX_WITH_CUDA
  const bool built = true;
#else
  const bool built = false;
#endif
  CHECK((fill_stub.table[slot] != nullptr) == built);
  CHECK((copy_stub.table[slot] != nullptr) == built);
  CHECK((unary_stub.table[slot] != nullptr) == built);
  CHECK((unary_backward_stub.table[slot] != nullptr) == built);
  CHECK((binary_stub.table[slot] != nullptr) == built);
  CHECK((where_stub.table[slot] != nullptr) == built);
  const DeviceRuntime& rt = device_runtimes[slot];
  CHECK((rt.malloc && rt.free && rt.memcpy && rt.device_count && rt.synchronize) == built);
}

#ifdef MOX_WITH_CUDA
// Without a device every CUDA call fails; the failure must arrive as an exception that names
// the call, never as a crash or a silent no-op.
TEST_CASE("cuda: failures without a device become exceptions naming the call") {
  if (have_gpu()) return;  // these calls would succeed (or corrupt memory) on a real device
  const DeviceRuntime& rt = device_runtimes[int(DeviceType::CUDA)];
  auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no exception)";
  };
  CHECK(contains(message_of([&] { rt.malloc(256, 0); }), "cudaMalloc"));
  float host[4] = {};
  CHECK(contains(message_of([&] { rt.memcpy(host, host, sizeof host, CopyKind::DeviceToHost); }),
                 "cudaMemcpy"));
  CHECK(contains(message_of([&] { rt.synchronize(0); }), "cudaDeviceSynchronize"));
  CHECK(contains(message_of([&] { fill_stub.table[int(DeviceType::CUDA)](DType::f32, host, 1, 4); }),
                 "fill_kernel"));
  // Empty work launches nothing, so it cannot fail.
  CHECK_NOTHROW(fill_stub.table[int(DeviceType::CUDA)](DType::f32, nullptr, 1, 0));
}
#endif

// Every element of the loop, as (offset of operand 0, offset of operand 1), walking pieces and
// computing offsets the way the CUDA kernels do.
static std::multiset<std::pair<int64_t, int64_t>> visit(const Loop& loop, int64_t max_numel,
                                                        int64_t* pieces, bool* small) {
  std::multiset<std::pair<int64_t, int64_t>> seen;
  *pieces = 0;
  *small = true;
  cuda::split_loop(
      loop,
      [&](const Loop& l, const int64_t (&base)[4]) {
        ++*pieces;
        if (!l.contiguous && l.numel > max_numel) *small = false;
        const cuda::OffsetCalc<2> calc(l);
        for (int64_t i = 0; i < l.numel; ++i) {
          int64_t off[2] = {i, i};
          if (!l.contiguous) calc.strided_offsets(uint32_t(i), off);
          seen.insert({base[0] + off[0], base[1] + off[1]});
        }
      },
      max_numel);
  return seen;
}

TEST_CASE("cuda: FastDiv divides like the / operator") {
  std::mt19937 rng(7);
  std::vector<uint32_t> divisors = {1, 2, 3, 5, 7, 255, 256, 641, 65535, 65536, 1000003,
                                    (1u << 30) - 1, 1u << 30, (1u << 30) + 1, INT32_MAX};
  for (int i = 0; i < 200; ++i) divisors.push_back(1 + rng() % INT32_MAX);
  for (int i = 0; i < 200; ++i) divisors.push_back(1 + rng() % 4096);
  for (uint32_t d : divisors) {
    const cuda::FastDiv fd(d);
    uint32_t bad = 0;
    bool ok = true;
    auto check_n = [&](uint32_t n) {
      if (ok && fd.div(n) != n / d) ok = false, bad = n;
    };
    for (uint32_t n : {0u, 1u, d - 1, d, d + 1, 2 * d - 1, 2 * d, uint32_t(INT32_MAX),
                       uint32_t(INT32_MAX) - 1, uint32_t(INT32_MAX) / d * d})
      if (n <= uint32_t(INT32_MAX)) check_n(n);
    for (int i = 0; i < 2000; ++i) check_n(rng() % (uint32_t(INT32_MAX) + 1));
    CHECK_MESSAGE(ok, "divisor ", d, " numerator ", bad);
  }
}

TEST_CASE("cuda: split_loop and OffsetCalc visit a strided loop exactly once") {
  Loop loop;
  loop.ndim = 3;
  int64_t sizes[3] = {3, 5, 7};
  loop.numel = 105;
  for (int d = 0; d < 3; ++d) loop.sizes[d] = sizes[d];
  // operand 0 dense, operand 1 transposed with a broadcast middle dim
  int64_t s0[3] = {35, 7, 1}, s1[3] = {1, 0, 3};
  for (int d = 0; d < 3; ++d) {
    loop.strides[0][d] = s0[d];
    loop.strides[1][d] = s1[d];
  }
  std::multiset<std::pair<int64_t, int64_t>> expected;  // by plain division
  for (int64_t i = 0; i < 105; ++i)
    expected.insert({(i / 35) * s0[0] + (i / 7 % 5) * s0[1] + (i % 7) * s0[2],
                     (i / 35) * s1[0] + (i / 7 % 5) * s1[1] + (i % 7) * s1[2]});
  int64_t pieces = 0;
  bool small = false;
  CHECK(visit(loop, 1000, &pieces, &small) == expected);
  CHECK(pieces == 1);
  for (int64_t max_numel : {70, 35, 20, 7, 6, 1}) {
    CAPTURE(max_numel);
    CHECK(visit(loop, max_numel, &pieces, &small) == expected);
    CHECK(small);
    CHECK(pieces > 1);
  }
  loop.contiguous = true;  // dense loops index in 64 bits and stay whole
  visit(loop, 7, &pieces, &small);
  CHECK(pieces == 1);
}

// ---- on a GPU

TEST_SUITE("gpu") {

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

TEST_CASE("cuda: fill for every dtype, dense and strided") {
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

TEST_CASE("cuda: binary ops with broadcasting, comparisons and where") {
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

}  // TEST_SUITE("gpu")

}  // namespace mox::test
