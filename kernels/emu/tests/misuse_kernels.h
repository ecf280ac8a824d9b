// Kernels that misuse CUDA on purpose, shared by the in-process misuse tests
// (test_misuse.cpp) and the one-case-per-process program (misuse_main.cpp).
#pragma once
#include "kernels/cuda/mox_cuda.h"

namespace {

__global__ void divergent_kernel() {
  if (threadIdx.x < 32) __syncthreads();
  else __syncthreads();
}

// Lane 5 waits at the block barrier while the rest of its warp waits for it in a shuffle.
__global__ void deadlock_kernel(int* out) {
  int v = int(threadIdx.x);
  if (threadIdx.x % 32 == 5) __syncthreads();
  else v = __shfl_sync(0xffffffffu, v, 0);
  out[threadIdx.x] = v;
}

// The lower half of the warp returns, the upper half shuffles with a full mask.
__global__ void shuffle_exited_kernel(int* out) {
  if (threadIdx.x < 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, int(threadIdx.x), 1);
}

}  // namespace
