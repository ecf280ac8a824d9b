// Misuse is reported, not hung (throw mode, so each report can be checked here): divergent
// barriers, deadlocks, collectives naming exited lanes, early returns before a barrier,
// mismatched collectives, bad masks and widths, traps and exceptions. Races that produce no
// report are exposed by running under several orders and comparing: a missing __syncthreads
// in a transpose and a missing __syncwarp in a warp reduction change their results.
#include "kernels/emu/tests/helpers.h"
#include "kernels/emu/tests/misuse_kernels.h"

using namespace emu_test;
using mox::emu::Misuse;
using mox::emu::Order;

namespace {

__global__ void early_return_kernel(int n, float* out) {
  __shared__ float s[64];
  const int i = int(threadIdx.x);
  if (i >= n) return;
  s[i] = float(i);
  __syncthreads();
  out[i] = s[n - 1 - i];
}

__global__ void mismatched_kernel(int* out) {
  if (threadIdx.x % 2) out[threadIdx.x] = __shfl_sync(0xffffffffu, 1, 0);
  else out[threadIdx.x] = int(__ballot_sync(0xffffffffu, 1));
}

__global__ void not_in_mask_kernel(int* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, 7, 0);
}

__global__ void bad_width_kernel(int* out) {
  out[threadIdx.x] = __shfl_sync(0xffffffffu, 7, 0, 12);
}

__global__ void partial_warp_kernel(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, int(threadIdx.x), 1);  // block of 20 threads
}

__global__ void trap_kernel() {
  if (threadIdx.x == 3) __trap();
  __syncthreads();
}

__global__ void throw_kernel() {
  if (blockIdx.x == 1) throw std::runtime_error("boom");
}

__global__ void fine_kernel(int* out) {
  __shared__ int s[64];
  s[threadIdx.x] = int(threadIdx.x);
  __syncthreads();
  out[threadIdx.x] = s[63 - threadIdx.x];
}

// A transpose that forgets the barrier between writing and reading its tile.
__global__ void racy_transpose_kernel(const float* in, float* out) {
  __shared__ float tile[32][33];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * 32 + threadIdx.x];
  out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

// The classic warp-synchronous tail of a reduction, with or without __syncwarp between steps.
template <bool kSyncwarp>
__global__ void warp_reduce_kernel(const int* in, int* out) {
  __shared__ int s[64];
  const int t = int(threadIdx.x);
  s[t] = in[t] + in[t + 32];
  __syncwarp();
  for (int offset = 16; offset > 0; offset >>= 1) {
    const int v = s[t] + s[t + offset];
    if (kSyncwarp) __syncwarp();
    s[t] = v;
    if (kSyncwarp) __syncwarp();
  }
  if (t == 0) *out = s[0];
}

template <class F>
std::string report_of(const mox::emu::Options& o, F launch) {
  mox::emu::ScopedOptions scoped(o);
  try {
    launch();
  } catch (const Misuse& e) {
    return e.what();
  }
  return "no report";
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("misuse: divergent barrier") {
  for (int workers : {1, 2}) {
    const std::string r = report_of(throwing(Order::Forward, workers), [] {
      MOX_LAUNCH(2, 64, 0, nullptr, divergent_kernel)();
    });
    CHECK(r.find("mox-emu: divergent barrier in kernel divergent_kernel") != std::string::npos);
    CHECK(r.find("32 at __syncthreads (misuse_kernels.h:") != std::string::npos);
  }
}

TEST_CASE("misuse: deadlock between a barrier and a warp collective") {
  Buffer<int> out(64);
  for (Order order : {Order::Forward, Order::Reverse, Order::Random}) {
    const std::string r = report_of(throwing(order), [&] {
      MOX_LAUNCH(1, 64, 0, nullptr, deadlock_kernel)(out.get());
    });
    CHECK(r.find("mox-emu: deadlock") != std::string::npos);
    CHECK(r.find("lane 5 is at __syncthreads") != std::string::npos);
  }
}

TEST_CASE("misuse: shuffle whose mask includes exited lanes in any order") {
  Buffer<int> out(32);
  for (Order order : {Order::Forward, Order::Reverse, Order::Random}) {
    const std::string r = report_of(throwing(order), [&] {
      MOX_LAUNCH(1, 32, 0, nullptr, shuffle_exited_kernel)(out.get());
    });
    CHECK(r.find("mox-emu: collective includes exited lanes") != std::string::npos);
    CHECK(r.find("__shfl_down_sync") != std::string::npos);
  }
  const std::string r = report_of(throwing(), [&] {
    MOX_LAUNCH(1, 20, 0, nullptr, partial_warp_kernel)(out.get());
  });
  CHECK(r.find("names lanes 0xfff00000 the block does not have") != std::string::npos);
}

TEST_CASE("misuse: early return before a barrier") {
  Buffer<float> out(64);
  const std::string r = report_of(throwing(Order::Reverse), [&] {
    MOX_LAUNCH(1, 64, 0, nullptr, early_return_kernel)(40, out.get());
  });
  CHECK(r.find("mox-emu: thread exited before barrier") != std::string::npos);
  CHECK(r.find("24 of 64 threads") != std::string::npos);
}

TEST_CASE("misuse: mismatched collectives and bad masks and widths") {
  Buffer<int> out(32);
  std::string r = report_of(throwing(), [&] { MOX_LAUNCH(1, 32, 0, nullptr, mismatched_kernel)(out.get()); });
  CHECK(r.find("mox-emu: mismatched collectives") != std::string::npos);
  r = report_of(throwing(), [&] { MOX_LAUNCH(1, 32, 0, nullptr, not_in_mask_kernel)(out.get()); });
  CHECK(r.find("which does not include it") != std::string::npos);
  r = report_of(throwing(), [&] { MOX_LAUNCH(1, 32, 0, nullptr, bad_width_kernel)(out.get()); });
  CHECK(r.find("with width 12") != std::string::npos);
}

TEST_CASE("misuse: __trap and exceptions end the launch with a report") {
  std::string r = report_of(throwing(), [] { MOX_LAUNCH(1, 32, 0, nullptr, trap_kernel)(); });
  CHECK(r.find("mox-emu: trap in kernel trap_kernel") != std::string::npos);
  CHECK(r.find("thread (3,0,0)") != std::string::npos);
  r = report_of(throwing(Order::Forward, 2), [] { MOX_LAUNCH(4, 32, 0, nullptr, throw_kernel)(); });
  CHECK(r.find("kernel threw in kernel throw_kernel, block (1,0,0)") != std::string::npos);
  CHECK(r.find("boom") != std::string::npos);
}

TEST_CASE("misuse: the emulator keeps working after a report") {
  Buffer<int> out(64);
  report_of(throwing(), [&] { MOX_LAUNCH(1, 64, 0, nullptr, deadlock_kernel)(out.get()); });
  for_each_config([&] {
    MOX_LAUNCH(1, 64, 0, nullptr, fine_kernel)(out.get());
    const std::vector<int> got = out.download();
    for (int t = 0; t < 64; ++t) REQUIRE(got[size_t(t)] == 63 - t);
  });
}

TEST_CASE("race: a missing __syncthreads changes the result with the order") {
  const std::vector<float> in = random_floats(32 * 32, 31);
  std::vector<float> want(in.size());
  for (int r = 0; r < 32; ++r)
    for (int c = 0; c < 32; ++c) want[size_t(c * 32 + r)] = in[size_t(r * 32 + c)];
  std::vector<std::vector<float>> results;
  for (Order order : {Order::Forward, Order::Reverse}) {
    mox::emu::ScopedOptions scoped(throwing(order));
    Buffer<float> din(in), dout(in.size());
    MOX_LAUNCH(1, dim3(32, 32), 0, nullptr, racy_transpose_kernel)(din.get(), dout.get());
    results.push_back(dout.download());
  }
  CHECK(results[0] != results[1]);
  CHECK((results[0] != want || results[1] != want));
}

TEST_CASE("race: a missing __syncwarp in a warp reduction changes the result with the order") {
  std::vector<int> in(64);
  for (int i = 0; i < 64; ++i) in[size_t(i)] = i * i % 17;
  int want = 0;
  for (int v : in) want += v;
  Buffer<int> din(in), dout(1);
  std::vector<int> racy, synced;
  for (Order order : {Order::Forward, Order::Reverse}) {
    mox::emu::ScopedOptions scoped(throwing(order));
    MOX_LAUNCH(1, 32, 0, nullptr, warp_reduce_kernel<false>)(din.get(), dout.get());
    racy.push_back(dout.download()[0]);
    MOX_LAUNCH(1, 32, 0, nullptr, warp_reduce_kernel<true>)(din.get(), dout.get());
    synced.push_back(dout.download()[0]);
  }
  CHECK(racy[0] != racy[1]);
  CHECK(synced[0] == want);
  CHECK(synced[1] == want);
}

}  // TEST_SUITE
