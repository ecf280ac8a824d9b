// Six demonstration CUDA kernels, each with a CPU reference. The .cu files compile unchanged
// with nvcc (CI, sm_80 and sm_90) and with g++ against the emulator (tests and bench).
// Launchers take device pointers and a stream, and report nothing: check cudaGetLastError.
#pragma once

#include "kernels/cuda/mox_cuda.h"

namespace mox::emu::examples {

// y = a*x + b*y over n floats: float4 grid-stride loop plus a scalar tail.
void axpby(int n, float a, const float* x, float b, float* y, cudaStream_t s);
void axpby_ref(int n, float a, const float* x, float b, float* y);

// *out = sum of x[0..n): per-block partial sums (shared memory + warp shuffles) in `partials`
// (sum_blocks(n) floats), then one block adds the partials.
int sum_blocks(int n);
void sum(int n, const float* x, float* partials, float* out, cudaStream_t s);
double sum_ref(int n, const float* x);

// C = alpha*A*B + beta*C, row-major with leading dimensions, any sizes. tile is 64 (64x64
// block tiles, 4x4 per thread) or 32 (32x32 tiles, 2x2 per thread).
void sgemm(int tile, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc, cudaStream_t s);
void sgemm_ref(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
               float beta, float* C, int ldc);

// C (MxN, float) = A (MxK) * B (KxN), row-major, any sizes, on tensor cores through wmma.
void wmma_gemm(int M, int N, int K, const __half* A, const __half* B, float* C, cudaStream_t s);
void wmma_gemm(int M, int N, int K, const __nv_bfloat16* A, const __nv_bfloat16* B, float* C,
               cudaStream_t s);
// The reference takes the 16-bit inputs already converted to float.
void wmma_gemm_ref(int M, int N, int K, const float* A, const float* B, float* C);

// Softmax of each row of a rows x cols matrix; one warp per row, the row cached in dynamic
// shared memory.
void softmax(int rows, int cols, const float* x, float* y, cudaStream_t s);
void softmax_ref(int rows, int cols, const float* x, float* y);

// out (cols x rows) = transpose of in (rows x cols), through 32x33 shared tiles.
void transpose(int rows, int cols, const float* in, float* out, cudaStream_t s);
void transpose_ref(int rows, int cols, const float* in, float* out);

}  // namespace mox::emu::examples
