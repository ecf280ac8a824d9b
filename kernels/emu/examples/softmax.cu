// Row softmax: one warp per row. The warp caches its row in dynamic shared memory, finds the
// maximum and the sum of exponentials with __shfl_xor_sync butterflies, and writes the
// normalised row. Warps past the last row leave at once: the kernel has no block barrier.
#include <cmath>

#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

constexpr int kWarps = 4;

__global__ void softmax_kernel(int rows, int cols, const float* __restrict__ x,
                               float* __restrict__ y) {
  MOX_DYNAMIC_SHARED(float, cache);
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int row = int(blockIdx.x) * kWarps + warp;
  if (row >= rows) return;
  float* c = cache + warp * cols;
  const float* xr = x + size_t(row) * cols;
  float m = -CUDART_INF_F;
  for (int j = lane; j < cols; j += 32) {
    c[j] = xr[j];
    m = fmaxf(m, c[j]);
  }
  for (int offset = 16; offset > 0; offset >>= 1)
    m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, offset));
  float sum = 0.0f;
  for (int j = lane; j < cols; j += 32) {
    const float e = __expf(c[j] - m);
    c[j] = e;
    sum += e;
  }
  for (int offset = 16; offset > 0; offset >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, offset);
  const float inv = 1.0f / sum;
  for (int j = lane; j < cols; j += 32) y[size_t(row) * cols + j] = c[j] * inv;
}

}  // namespace

void softmax(int rows, int cols, const float* x, float* y, cudaStream_t s) {
  if (rows <= 0 || cols <= 0) return;
  const int blocks = (rows + kWarps - 1) / kWarps;
  const size_t smem = size_t(kWarps) * size_t(cols) * sizeof(float);
  MOX_LAUNCH(blocks, kWarps * 32, smem, s, softmax_kernel)(rows, cols, x, y);
}

void softmax_ref(int rows, int cols, const float* x, float* y) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + size_t(r) * cols;
    double m = xr[0], sum = 0;
    for (int j = 1; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
    for (int j = 0; j < cols; ++j) sum += std::exp(double(xr[j]) - m);
    for (int j = 0; j < cols; ++j) y[size_t(r) * cols + j] = float(std::exp(double(xr[j]) - m) / sum);
  }
}

}  // namespace mox::emu::examples
