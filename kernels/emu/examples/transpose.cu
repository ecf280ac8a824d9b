// Tiled transpose: a 32x8 block moves a 32x32 tile through shared memory padded to 33 columns
// (no bank conflicts on a GPU), reading rows of `in` and writing rows of `out`.
#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

constexpr int kTile = 32, kRows = 8;

__global__ void transpose_kernel(int rows, int cols, const float* __restrict__ in,
                                 float* __restrict__ out) {
  __shared__ float tile[kTile][kTile + 1];
  const int tx = int(threadIdx.x), ty = int(threadIdx.y);
  int x = int(blockIdx.x) * kTile + tx, y = int(blockIdx.y) * kTile + ty;
  for (int j = 0; j < kTile; j += kRows)
    if (x < cols && y + j < rows) tile[ty + j][tx] = in[size_t(y + j) * cols + x];
  __syncthreads();
  x = int(blockIdx.y) * kTile + tx;
  y = int(blockIdx.x) * kTile + ty;
  for (int j = 0; j < kTile; j += kRows)
    if (x < rows && y + j < cols) out[size_t(y + j) * rows + x] = tile[tx][ty + j];
}

}  // namespace

void transpose(int rows, int cols, const float* in, float* out, cudaStream_t s) {
  if (rows <= 0 || cols <= 0) return;
  const dim3 grid(unsigned((cols + kTile - 1) / kTile), unsigned((rows + kTile - 1) / kTile));
  MOX_LAUNCH(grid, dim3(kTile, kRows), 0, s, transpose_kernel)(rows, cols, in, out);
}

void transpose_ref(int rows, int cols, const float* in, float* out) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) out[size_t(c) * rows + r] = in[size_t(r) * cols + c];
}

}  // namespace mox::emu::examples
