// Linear-algebra kernel family: batched, strided GEMM. Operands are described by element
// strides, so transposed and broadcast operands need no copy.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

// C[b] = alpha * A[b] · B[b] + beta * C[b] for b in [0, batch), with A[b] an m x k matrix,
// B[b] k x n and C[b] m x n. Element (i, j) of matrix b of X lives at
// x + b * x_bs + i * x_rs + j * x_cs (strides in elements; a batch stride of 0 broadcasts).
// beta == 0 ignores C's old contents (NaN there does not propagate). dtype: f32 or f64.
struct GemmDesc {
  DType dtype = DType::f32;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  double alpha = 1, beta = 0;
  const void* a = nullptr;
  int64_t a_rs = 0, a_cs = 0, a_bs = 0;
  const void* b = nullptr;
  int64_t b_rs = 0, b_cs = 0, b_bs = 0;
  void* c = nullptr;
  int64_t c_rs = 0, c_cs = 0, c_bs = 0;
};
using GemmFn = void(const GemmDesc&);
MOX_STUB(gemm_stub, GemmFn);

namespace cpu {
// The micro-kernel family the CPU GEMM runs: by default the widest the processor supports
// (AVX-512, else AVX2+FMA, else portable scalar). Tests and benchmarks may force a narrower one;
// asking for one the processor lacks throws std::invalid_argument.
enum class GemmIsa { scalar, avx2, avx512 };
GemmIsa gemm_isa();
bool gemm_isa_supported(GemmIsa isa);
void set_gemm_isa(GemmIsa isa);
const char* gemm_isa_name(GemmIsa isa);
}  // namespace cpu

}  // namespace mox
