// Block-level semantics: built-in index variables, __syncthreads and its _count/_and/_or
// forms, static and dynamic shared memory, __activemask, per-thread parameter copies, launch
// configuration errors. Every kernel runs under all standard configurations.
#include "kernels/emu/tests/helpers.h"

using namespace emu_test;

namespace {

__device__ unsigned linear_tid() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
__device__ unsigned block_threads() { return blockDim.x * blockDim.y * blockDim.z; }
__device__ unsigned linear_block() { return blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z); }

// Each round every thread publishes a value and takes its right neighbour's plus one.
__global__ void rotate_kernel(int rounds, int* out) {
  __shared__ int s[1024];
  const unsigned t = linear_tid(), n = block_threads();
  int v = int(t);
  for (int r = 0; r < rounds; ++r) {
    s[t] = v;
    __syncthreads();
    v = s[(t + 1) % n] + 1;
    __syncthreads();
  }
  out[linear_block() * n + t] = v;
}

__global__ void vote_kernel(int modulus, int* out) {
  const unsigned t = linear_tid(), n = block_threads();
  const int pred = int(t) % modulus == 0;
  out[3 * t + 0] = __syncthreads_count(pred);
  out[3 * t + 1] = __syncthreads_and(pred);
  out[3 * t + 2] = __syncthreads_or(pred && t + 1 == n);
}

__global__ void index_kernel(unsigned* out) {
  const unsigned i = 12 * (linear_block() * block_threads() + linear_tid());
  const unsigned v[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                          blockDim.x,  blockDim.y,  blockDim.z,  gridDim.x,  gridDim.y,  gridDim.z};
  for (int k = 0; k < 12; ++k) out[i + unsigned(k)] = v[k];
}

template <int K>
__device__ int* shared_slot() {
  __shared__ int slot;
  return &slot;
}
__global__ void instance_kernel(int* out) {
  *shared_slot<1>() = 1;
  *shared_slot<2>() = 2;
  __syncthreads();
  out[threadIdx.x] = *shared_slot<1>() * 10 + *shared_slot<2>();
}

__global__ void dynamic_kernel(int bytes, int* out) {
  MOX_DYNAMIC_SHARED(unsigned char, buf);
  const int t = int(threadIdx.x), n = int(blockDim.x);
  int fresh = 1;  // every byte holds the 0xff fill before anyone writes
  for (int i = t; i < bytes; i += n) fresh &= buf[i] == 0xff;
  __syncthreads();
  for (int i = t; i < bytes; i += n) buf[i] = static_cast<unsigned char>(i * 7);
  __syncthreads();
  int ok = fresh && (reinterpret_cast<uintptr_t>(buf) % 16 == 0);
  for (int i = t; i < bytes; i += n) ok &= buf[bytes - 1 - i] == static_cast<unsigned char>((bytes - 1 - i) * 7);
  out[linear_block() * unsigned(n) + unsigned(t)] = ok;
}

__global__ void activemask_kernel(unsigned* out) {
  const unsigned lane = threadIdx.x % 32;
  unsigned m;
  if (lane < 5) m = __activemask();
  else m = __activemask();
  out[threadIdx.x] = m;
}

__global__ void param_kernel(int base, int* out) {
  base += int(threadIdx.x);  // a by-value parameter is the thread's own copy
  __syncthreads();
  out[threadIdx.x] = base;
}

// Threads past the end leave early; there is no barrier, so that is fine.
__global__ void early_exit_kernel(int n, int* out) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  out[i] = i * 2;
}

__global__ void empty_kernel() {}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("barrier: __syncthreads orders shared memory in any block shape") {
  struct Shape {
    dim3 grid, block;
  };
  for (Shape s : {Shape{dim3(1), dim3(1)}, Shape{dim3(3, 2), dim3(8, 4, 2)}, Shape{dim3(2), dim3(1024)},
                  Shape{dim3(5), dim3(48)}}) {
    const unsigned n = s.block.x * s.block.y * s.block.z, blocks = s.grid.x * s.grid.y * s.grid.z;
    INFO("block threads ", n, ", blocks ", blocks);
    const int rounds = 5;
    for_each_config([&] {
      Buffer<int> out(size_t(n) * blocks);
      MOX_LAUNCH(s.grid, s.block, 0, nullptr, rotate_kernel)(rounds, out.get());
      const std::vector<int> got = out.download();
      for (unsigned b = 0; b < blocks; ++b)
        for (unsigned t = 0; t < n; ++t) REQUIRE(got[b * n + t] == int((t + rounds) % n) + rounds);
    });
  }
}

TEST_CASE("barrier: the counting and voting forms of __syncthreads") {
  for (int modulus : {1, 3, 1000}) {
    const unsigned n = 96;
    int count = 0;
    for (unsigned t = 0; t < n; ++t) count += int(t) % modulus == 0;
    for_each_config([&] {
      Buffer<int> out(3 * n);
      MOX_LAUNCH(1, n, 0, nullptr, vote_kernel)(modulus, out.get());
      const std::vector<int> got = out.download();
      for (unsigned t = 0; t < n; ++t) {
        CHECK(got[3 * t] == count);
        CHECK(got[3 * t + 1] == (count == int(n)));
        CHECK(got[3 * t + 2] == (int(n - 1) % modulus == 0));
      }
    });
  }
}

TEST_CASE("built-in variables for 3-D grids and blocks") {
  const dim3 grid(2, 3, 2), block(4, 2, 3);
  const unsigned n = 24, blocks = 12;
  for_each_config([&] {
    Buffer<unsigned> out(12 * n * blocks);
    MOX_LAUNCH(grid, block, 0, nullptr, index_kernel)(out.get());
    const std::vector<unsigned> got = out.download();
    for (unsigned b = 0; b < blocks; ++b)
      for (unsigned t = 0; t < n; ++t) {
        const unsigned* v = &got[12 * (b * n + t)];
        const unsigned want[12] = {t % 4, t / 4 % 2, t / 8, b % 2, b / 2 % 3, b / 6, 4, 2, 3, 2, 3, 2};
        for (int k = 0; k < 12; ++k) REQUIRE(v[k] == want[k]);
      }
  });
}

TEST_CASE("static __shared__: one array per template instantiation") {
  for_each_config([&] {
    Buffer<int> out(64);
    MOX_LAUNCH(1, 64, 0, nullptr, instance_kernel)(out.get());
    for (int v : out.download()) REQUIRE(v == 12);
  });
}

TEST_CASE("dynamic shared memory is sized exactly and 16-byte aligned and refilled per block") {
  for (int bytes : {1, 100, 4096, 48 * 1024}) {
    INFO("bytes = ", bytes);
    for_each_config([&] {
      Buffer<int> out(4 * 64);
      MOX_LAUNCH(4, 64, size_t(bytes), nullptr, dynamic_kernel)(bytes, out.get());
      for (int v : out.download()) REQUIRE(v == 1);
    });
  }
}

TEST_CASE("__activemask: the lanes that reach the call site together") {
  for_each_config([&] {
    Buffer<unsigned> out(48);
    MOX_LAUNCH(1, 48, 0, nullptr, activemask_kernel)(out.get());
    const std::vector<unsigned> got = out.download();
    for (unsigned t = 0; t < 48; ++t) {
      const unsigned warp_lanes = t < 32 ? 0xffffffffu : 0x0000ffffu;
      CHECK(got[t] == (t % 32 < 5 ? 0x1fu : warp_lanes & ~0x1fu));
    }
  });
}

TEST_CASE("kernel parameters are per-thread copies") {
  for_each_config([&] {
    Buffer<int> out(128);
    MOX_LAUNCH(1, 128, 0, nullptr, param_kernel)(1000, out.get());
    const std::vector<int> got = out.download();
    for (int t = 0; t < 128; ++t) REQUIRE(got[size_t(t)] == 1000 + t);
  });
}

TEST_CASE("early exit without a barrier is fine") {
  for_each_config([&] {
    Buffer<int> out(1000);
    MOX_LAUNCH(4, 256, 0, nullptr, early_exit_kernel)(1000, out.get());
    const std::vector<int> got = out.download();
    for (int i = 0; i < 1000; ++i) REQUIRE(got[size_t(i)] == 2 * i);
  });
}

TEST_CASE("launch configuration errors are reported like CUDA") {
  check(cudaGetLastError());
  MOX_LAUNCH(1, 1025, 0, nullptr, empty_kernel)();
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  MOX_LAUNCH(dim3(1, 65536), 1, 0, nullptr, empty_kernel)();
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  MOX_LAUNCH(0, 32, 0, nullptr, empty_kernel)();
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  MOX_LAUNCH(dim3(1), dim3(1, 1, 65), 0, nullptr, empty_kernel)();
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  MOX_LAUNCH(1, 32, 64 * 1024, nullptr, dynamic_kernel)(0, nullptr);
  CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration);
  check(cudaFuncSetAttribute(dynamic_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024));
  Buffer<int> out(32);
  MOX_LAUNCH(1, 32, 64 * 1024, nullptr, dynamic_kernel)(64 * 1024, out.get());
  check(cudaGetLastError());
  for (int v : out.download()) CHECK(v == 1);
  MOX_LAUNCH(1, 32, 0, reinterpret_cast<cudaStream_t>(0x1234), empty_kernel)();
  CHECK(cudaGetLastError() == cudaErrorInvalidResourceHandle);
}

}  // TEST_SUITE
