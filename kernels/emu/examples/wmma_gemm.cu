// fp16 / bf16 GEMM on tensor cores: a block of four warps computes a 32x32 tile of C (float),
// each warp a 16x16 quarter with m16n16k16 fragments. A and B tiles are staged through shared
// memory with zero padding, so M, N and K need not be multiples of 16.
#include "kernels/emu/examples/examples.h"

namespace mox::emu::examples {
namespace {

namespace wmma = nvcuda::wmma;

template <class T>
__global__ void wmma_gemm_kernel(int M, int N, int K, const T* __restrict__ A,
                                 const T* __restrict__ B, float* __restrict__ C) {
  __shared__ __align__(32) T As[32][16];
  __shared__ __align__(32) T Bs[16][32];
  __shared__ __align__(32) float Cs[32][32];
  const int tid = int(threadIdx.x), warp = tid / 32, wm = warp / 2, wn = warp % 2;
  const int row0 = int(blockIdx.y) * 32, col0 = int(blockIdx.x) * 32;

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  for (int k0 = 0; k0 < K; k0 += 16) {
    for (int i = tid; i < 32 * 16; i += 128) {
      const int r = i / 16, k = i % 16;
      As[r][k] = row0 + r < M && k0 + k < K ? A[size_t(row0 + r) * K + k0 + k] : T(0.0f);
    }
    for (int i = tid; i < 16 * 32; i += 128) {
      const int k = i / 32, c = i % 32;
      Bs[k][c] = k0 + k < K && col0 + c < N ? B[size_t(k0 + k) * N + col0 + c] : T(0.0f);
    }
    __syncthreads();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> a;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> b;
    wmma::load_matrix_sync(a, &As[wm * 16][0], 16);
    wmma::load_matrix_sync(b, &Bs[0][wn * 16], 32);
    wmma::mma_sync(acc, a, b, acc);
    __syncthreads();
  }
  wmma::store_matrix_sync(&Cs[wm * 16][wn * 16], acc, 32, wmma::mem_row_major);
  __syncthreads();
  for (int i = tid; i < 32 * 32; i += 128) {
    const int r = i / 32, c = i % 32;
    if (row0 + r < M && col0 + c < N) C[size_t(row0 + r) * N + col0 + c] = Cs[r][c];
  }
}

template <class T>
void launch(int M, int N, int K, const T* A, const T* B, float* C, cudaStream_t s) {
  if (M <= 0 || N <= 0) return;
  const dim3 grid(unsigned((N + 31) / 32), unsigned((M + 31) / 32));
  MOX_LAUNCH(grid, 128, 0, s, wmma_gemm_kernel<T>)(M, N, K, A, B, C);
}

}  // namespace

void wmma_gemm(int M, int N, int K, const __half* A, const __half* B, float* C, cudaStream_t s) {
  launch(M, N, K, A, B, C, s);
}
void wmma_gemm(int M, int N, int K, const __nv_bfloat16* A, const __nv_bfloat16* B, float* C,
               cudaStream_t s) {
  launch(M, N, K, A, B, C, s);
}

void wmma_gemm_ref(int M, int N, int K, const float* A, const float* B, float* C) {
  for (int r = 0; r < M; ++r)
    for (int c = 0; c < N; ++c) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[size_t(r) * K + k]) * B[size_t(k) * N + c];
      C[size_t(r) * N + c] = float(acc);
    }
}

}  // namespace mox::emu::examples
