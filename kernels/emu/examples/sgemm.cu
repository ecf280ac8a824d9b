// SGEMM, C = alpha*A*B + beta*C (row-major): a block computes a BM x BN tile of C from BK-deep
// slices of A and B staged in shared memory (A transposed, so a thread reads its TM rows
// contiguously); each thread keeps a TM x TN block of C in registers. Edges are zero-padded,
// so every size works.
#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

template <int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    sgemm_kernel(int M, int N, int K, float alpha, const float* __restrict__ A, int lda,
                 const float* __restrict__ B, int ldb, float beta, float* __restrict__ C, int ldc) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  __shared__ float As[BK][BM];
  __shared__ float Bs[BK][BN];
  const int tid = int(threadIdx.x);
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);
  const int row0 = int(blockIdx.y) * BM, col0 = int(blockIdx.x) * BN;
  float acc[TM][TN];
  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int i = tid; i < BM * BK; i += kThreads) {
      const int m = i / BK, k = i % BK, r = row0 + m, c = k0 + k;
      As[k][m] = r < M && c < K ? A[size_t(r) * lda + c] : 0.0f;
    }
    for (int i = tid; i < BK * BN; i += kThreads) {
      const int k = i / BN, n = i % BN, r = k0 + k, c = col0 + n;
      Bs[k][n] = r < K && c < N ? B[size_t(r) * ldb + c] : 0.0f;
    }
    __syncthreads();
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
      for (int i = 0; i < TM; ++i) a[i] = As[k][ty * TM + i];
      for (int j = 0; j < TN; ++j) b[j] = Bs[k][tx * TN + j];
      for (int i = 0; i < TM; ++i)
        for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }

  for (int i = 0; i < TM; ++i)
    for (int j = 0; j < TN; ++j) {
      const int r = row0 + ty * TM + i, c = col0 + tx * TN + j;
      if (r < M && c < N) {
        float* p = C + size_t(r) * ldc + c;
        *p = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *p;
      }
    }
}

template <int BM, int BN, int BK, int TM, int TN>
void launch(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
            float beta, float* C, int ldc, cudaStream_t s) {
  const dim3 grid(unsigned((N + BN - 1) / BN), unsigned((M + BM - 1) / BM));
  MOX_LAUNCH(grid, (BM / TM) * (BN / TN), 0, s, sgemm_kernel<BM, BN, BK, TM, TN>)(
      M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

void sgemm(int tile, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc, cudaStream_t s) {
  if (M <= 0 || N <= 0) return;
  if (tile == 64) launch<64, 64, 8, 4, 4>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
  else launch<32, 32, 8, 2, 2>(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
}

void sgemm_ref(int M, int N, int K, float alpha, const float* A, int lda, const float* B, int ldb,
               float beta, float* C, int ldc) {
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[size_t(r) * lda + k]) * B[size_t(k) * ldb + c];
      float* p = C + size_t(r) * ldc + c;
      *p = beta == 0.0f ? float(alpha * acc) : float(alpha * acc + double(beta) * *p);
    }
}

}  // namespace mox::emu::examples
