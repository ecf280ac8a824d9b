// Sum of a vector: each thread adds a grid-stride slice, warps reduce with __shfl_down_sync,
// warp leaders meet in shared memory, the first warp reduces those; a second one-block launch
// adds the per-block partial sums, so the result does not depend on block order.
#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocks = 256;

__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

__global__ void sum_kernel(int n, const float* __restrict__ x, float* __restrict__ out) {
  __shared__ float warp_sums[kThreads / 32];
  float v = 0.0f;
  for (int i = int(blockIdx.x) * kThreads + int(threadIdx.x); i < n; i += int(gridDim.x) * kThreads)
    v += x[i];
  v = warp_sum(v);
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kThreads / 32 ? warp_sums[lane] : 0.0f;
    v = warp_sum(v);
    if (lane == 0) out[blockIdx.x] = v;
  }
}

}  // namespace

int sum_blocks(int n) {
  const int blocks = (n + kThreads - 1) / kThreads;
  return blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks;
}

void sum(int n, const float* x, float* partials, float* out, cudaStream_t s) {
  const int blocks = sum_blocks(n);
  MOX_LAUNCH(blocks, kThreads, 0, s, sum_kernel)(n, x, partials);
  MOX_LAUNCH(1, kThreads, 0, s, sum_kernel)(blocks, partials, out);
}

double sum_ref(int n, const float* x) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += x[i];
  return s;
}

}  // namespace mox::emu::examples
