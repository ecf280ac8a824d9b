// The CUDA backend, cases that run everywhere: device counting and allocation errors, the
// kernel registrations, CUDA failures surfacing as exceptions, and the kernels' 32-bit strided
// indexing (kernels/cuda/indexing.h), on the host. The CUDA-against-CPU cases are in
// test_cuda_parity.cpp (suite "gpu" here, "emu" in the emulator program of tests/cuda_emu/).
#include <doctest/doctest.h>

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

bool have_gpu() { return device_count(DeviceType::CUDA) > 0; }

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

}  // namespace mox::test
