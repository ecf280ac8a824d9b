// y = a*x + b*y: a float4 grid-stride loop over the vectorisable part, a scalar tail.
#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

constexpr int kThreads = 256;

__global__ void axpby_kernel(int n, float a, const float* __restrict__ x, float b,
                             float* __restrict__ y) {
  const int n4 = n / 4;
  const int stride = int(gridDim.x * blockDim.x);
  const int start = int(blockIdx.x * blockDim.x + threadIdx.x);
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  for (int i = start; i < n4; i += stride) {
    const float4 u = x4[i];
    float4 v = y4[i];
    v.x = a * u.x + b * v.x;
    v.y = a * u.y + b * v.y;
    v.z = a * u.z + b * v.z;
    v.w = a * u.w + b * v.w;
    y4[i] = v;
  }
  const int tail = n4 * 4 + start;
  if (tail < n) y[tail] = a * x[tail] + b * y[tail];
}

}  // namespace

void axpby(int n, float a, const float* x, float b, float* y, cudaStream_t s) {
  if (n <= 0) return;
  int blocks = (n / 4 + kThreads - 1) / kThreads;
  blocks = blocks < 1 ? 1 : blocks > 16 ? 16 : blocks;  // few blocks: the grid-stride loop runs
  MOX_LAUNCH(blocks, kThreads, 0, s, axpby_kernel)(n, a, x, b, y);
}

void axpby_ref(int n, float a, const float* x, float b, float* y) {
  for (int i = 0; i < n; ++i) y[i] = a * x[i] + b * y[i];
}

}  // namespace mox::emu::examples
