// CPU GEMM: C = alpha * A·B + beta * C, batched, any element strides, f32 and f64.
// A BLIS-style blocked algorithm: for each MC-tall block of A and KC-deep slice of K, A's block
// is packed once into MR-tall micro-panels (shared by the threads, L3-sized); each thread packs
// KC x NC blocks of B into NR-wide micro-panels (L2-sized) and runs an MR x NR register-blocked
// micro-kernel with one A micro-panel held in L1 across the B block.
// Versions of the micro-kernel: AVX-512 (12x32 f32, 12x16 f64), AVX2+FMA (6x16 f32, 6x8 f64)
// and portable scalar (4x8), picked at run time from the processor's features; no file is
// compiled with -march. OpenMP splits N into column blocks (and A's micro-panels when N is
// short) among threads, or the batch when there are many small matrices. Measured by bench_gemm.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/gemm_config.h"
#include "kernels/cpu/transpose16.h"
#include "kernels/linalg.h"

namespace mox::cpu {
namespace {

// ---- micro-kernels: compute an MR x NR tile from packed panels, then update C

// Writes tile (MR x NR, row-major, leading dimension ld) into C's mr x nr corner.
template <class T>
void update_tile(const T* tile, int ld, T* c, int64_t rs, int64_t cs, T alpha, T beta, int mr, int nr) {
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) {
      T& dst = c[i * rs + j * cs];
      dst = beta == T(0) ? alpha * tile[i * ld + j] : alpha * tile[i * ld + j] + beta * dst;
    }
}

// Vector operations of one ISA and element type, for MOX_MICRO_KERNEL.
#define MOX_SIMD_TRAITS(NAME, TARGET, TYPE, VEC, WIDTH, ZERO, LOAD, STORE, SET1, FMA, MUL) \
  struct NAME {                                                                            \
    using T = TYPE;                                                                        \
    using V = VEC;                                                                         \
    static constexpr int W = WIDTH;                                                        \
    __attribute__((target(TARGET), always_inline)) static inline V zero() { return ZERO(); } \
    __attribute__((target(TARGET), always_inline)) static inline V load(const T* p) { return LOAD(p); } \
    __attribute__((target(TARGET), always_inline)) static inline void store(T* p, V v) { STORE(p, v); } \
    __attribute__((target(TARGET), always_inline)) static inline V set1(T x) { return SET1(x); } \
    __attribute__((target(TARGET), always_inline)) static inline V fma(V a, V b, V c) { return FMA(a, b, c); } \
    __attribute__((target(TARGET), always_inline)) static inline V mul(V a, V b) { return MUL(a, b); } \
  };
MOX_SIMD_TRAITS(Avx512F32, "avx512f", float, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps,
                _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps)
MOX_SIMD_TRAITS(Avx512F64, "avx512f", double, __m512d, 8, _mm512_setzero_pd, _mm512_loadu_pd,
                _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_mul_pd)
MOX_SIMD_TRAITS(Avx2F32, "avx2,fma", float, __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps,
                _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps)
MOX_SIMD_TRAITS(Avx2F64, "avx2,fma", double, __m256d, 4, _mm256_setzero_pd, _mm256_loadu_pd,
                _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd)
#undef MOX_SIMD_TRAITS

// The micro-kernel for traits I: MR rows, NV vectors (NV * I::W columns) of accumulators.
// a: kc steps of MR values; b: kc steps of NV * W values (both zero-padded at the edges).
// Full tiles of unit column stride update C with vector loads and stores.
#define MOX_MICRO_KERNEL(NAME, TARGET)                                                        \
  template <class I, int MR, int NV>                                                          \
  __attribute__((target(TARGET))) void NAME(int64_t kc, const typename I::T* __restrict a,     \
                                            const typename I::T* __restrict b,               \
                                            typename I::T* c, int64_t rs, int64_t cs,        \
                                            typename I::T alpha, typename I::T beta, int mr, \
                                            int nr) {                                        \
    using T = typename I::T;                                                                  \
    using V = typename I::V;                                                                  \
    constexpr int NR = NV * I::W;                                                             \
    V acc[MR][NV];                                                                            \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                                     \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; ++j) acc[i][j] = I::zero();             \
    /* C's lines come in while the products run (a tile written once would miss otherwise) */ \
    if (cs == 1)                                                                              \
      for (int i = 0; i < mr; ++i) {                                                          \
        __builtin_prefetch(c + i * rs, 1);                                                    \
        __builtin_prefetch(c + i * rs + NR - 1, 1);                                           \
      }                                                                                       \
    for (int64_t p = 0; p < kc; ++p) {                                                        \
      V bv[NV];                                                                               \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; ++j) bv[j] = I::load(b + j * I::W);     \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                                 \
        V av = I::set1(a[i]);                                                                 \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; ++j) acc[i][j] =                      \
            I::fma(av, bv[j], acc[i][j]);                                                     \
      }                                                                                       \
      a += MR;                                                                                \
      b += NR;                                                                                \
    }                                                                                         \
    if (mr == MR && nr == NR && cs == 1) {                                                    \
      V va = I::set1(alpha), vb = I::set1(beta);                                              \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                                   \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; ++j) {                                \
          T* dst = c + i * rs + j * I::W;                                                     \
          V r = alpha == T(1) ? acc[i][j] : I::mul(va, acc[i][j]);                            \
          if (beta != T(0)) r = I::fma(vb, I::load(dst), r);                                  \
          I::store(dst, r);                                                                   \
        }                                                                                     \
      return;                                                                                 \
    }                                                                                         \
    alignas(64) T tile[MR * NR];                                                              \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i)                                     \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; ++j) I::store(tile + i * NR + j * I::W, \
                                                                    acc[i][j]);               \
    update_tile(tile, NR, c, rs, cs, alpha, beta, mr, nr);                                    \
  }
MOX_MICRO_KERNEL(micro_avx512, "avx512f")
MOX_MICRO_KERNEL(micro_avx2, "avx2,fma")
#undef MOX_MICRO_KERNEL

// Portable fallback; the compiler vectorizes what the baseline ISA allows.
template <class T, int MR, int NR>
void micro_scalar(int64_t kc, const T* __restrict a, const T* __restrict b, T* c, int64_t rs,
                  int64_t cs, T alpha, T beta, int mr, int nr) {
  T acc[MR * NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i * NR + j] += a[i] * b[j];
    a += MR;
    b += NR;
  }
  update_tile(acc, NR, c, rs, cs, alpha, beta, mr, nr);
}

// ---- packing (written once, compiled per ISA so the copies vectorize)

// One MR-tall micro-panel of the rows x kc block at a (rows <= MR): for each p, the rows' values
// (zero-padded).
template <class T, int MR>
[[gnu::always_inline]] inline void pack_a_body(T* dst, const T* a, int64_t rs, int64_t cs,
                                               int64_t rows, int64_t kc) {
  if (rows == MR && rs == 1) {  // a transposed: each step's MR values are contiguous
    for (int64_t p = 0; p < kc; ++p)
      for (int i = 0; i < MR; ++i) dst[p * MR + i] = a[p * cs + i];
    return;
  }
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = a[i * rs + p * cs];
  for (int64_t i = rows; i < MR; ++i)
    for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = T(0);
}

// The kc x cols block at b as NR-wide micro-panels (panel q at dst + q*kc*NR; for each p, the
// row's NR columns, the last panel zero-padded). A row-major block is read row by row across all
// its panels: each row is one contiguous run, which the hardware prefetcher follows, where
// reading a panel at a time would jump a row stride per 2 cache lines.
template <class T, int NR>
[[gnu::always_inline]] inline void pack_b_body(T* dst, const T* b, int64_t rs, int64_t cs,
                                               int64_t kc, int64_t cols) {
  const int64_t full = cols / NR, rest = cols % NR;
  if (cs == 1) {
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = b + p * rs;
      for (int64_t q = 0; q < full; ++q)
        for (int j = 0; j < NR; ++j) dst[(q * kc + p) * NR + j] = src[q * NR + j];
      if (rest == 0) continue;
      T* d = dst + (full * kc + p) * NR;
      for (int j = 0; j < NR; ++j) d[j] = j < rest ? src[full * NR + j] : T(0);
    }
    return;
  }
  for (int64_t q = 0; q * NR < cols; ++q) {
    const int n = int(std::min<int64_t>(NR, cols - q * NR));
    const T* bq = b + q * NR * cs;
    T* d = dst + q * kc * NR;
    if (rs == 1) {  // b transposed: read each column contiguously
      for (int j = 0; j < n; ++j)
        for (int64_t p = 0; p < kc; ++p) d[p * NR + j] = bq[j * cs + p];
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < n; ++j) d[p * NR + j] = bq[p * rs + j * cs];
    }
    for (int64_t p = 0; p < kc; ++p)
      for (int j = n; j < NR; ++j) d[p * NR + j] = T(0);
  }
}

#define MOX_PACKERS(SUFFIX, TARGET)                                                       \
  template <class T, int MR>                                                              \
  [[gnu::target(TARGET)]] void pack_a_##SUFFIX(T* dst, const T* a, int64_t rs, int64_t cs, \
                                               int64_t rows, int64_t kc) {                \
    pack_a_body<T, MR>(dst, a, rs, cs, rows, kc);                                         \
  }                                                                                       \
  template <class T, int NR>                                                              \
  [[gnu::target(TARGET)]] void pack_b_##SUFFIX(T* dst, const T* b, int64_t rs, int64_t cs, \
                                               int64_t kc, int64_t cols) {                \
    pack_b_body<T, NR>(dst, b, rs, cs, kc, cols);                                         \
  }
MOX_PACKERS(avx512, "avx512f")
MOX_PACKERS(avx2, "avx2,fma")
MOX_PACKERS(plain, "default")
#undef MOX_PACKERS

// f32 AVX-512 A packing: a full 12-row micro-panel of a row-major A (the weights of a
// convolution, most GEMMs) is transposed 16 steps at a time in registers (transpose16) instead of
// element by element.
[[gnu::target("avx512f")]] void pack_a_avx512_f32(float* dst, const float* a, int64_t rs, int64_t cs,
                                                  int64_t rows, int64_t kc) {
  constexpr int MR = 12;
  if (rows != MR || cs != 1) return pack_a_avx512<float, MR>(dst, a, rs, cs, rows, kc);
  int64_t p = 0;
  for (; p + 16 <= kc; p += 16) {
    __m512 r[16];
    for (int i = 0; i < MR; ++i) r[i] = _mm512_loadu_ps(a + i * rs + p);
    for (int i = MR; i < 16; ++i) r[i] = _mm512_setzero_ps();
    transpose16(r);
    for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dst + (p + j) * MR, __mmask16((1u << MR) - 1), r[j]);
  }
  for (; p < kc; ++p)
    for (int i = 0; i < MR; ++i) dst[p * MR + i] = a[i * rs + p];
}

// f32 AVX-512 B packing for a transposed B (rs == 1: each column contiguous, as the weight of a
// linear layer in y = x w^T): a 32-column panel's rows are built from 16 x 16 blocks transposed
// in registers instead of one strided store per element.
[[gnu::target("avx512f")]] void pack_b_avx512_f32(float* dst, const float* b, int64_t rs, int64_t cs, int64_t kc,
                                                  int64_t cols) {
  constexpr int NR = 32;
  if (rs != 1 || cs == 1) return pack_b_avx512<float, NR>(dst, b, rs, cs, kc, cols);
  const int64_t full = cols / NR, kv = kc / 16 * 16;
  for (int64_t q = 0; q < full; ++q) {
    for (int64_t p = 0; p < kv; p += 16)
      for (int h = 0; h < NR; h += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(b + (q * NR + h + j) * cs + p);
        transpose16(r);
        for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + (q * kc + p + i) * NR + h, r[i]);
      }
    for (int64_t p = kv; p < kc; ++p)
      for (int j = 0; j < NR; ++j) dst[(q * kc + p) * NR + j] = b[(q * NR + j) * cs + p];
  }
  if (cols > full * NR) pack_b_avx512<float, NR>(dst + full * kc * NR, b + full * NR * cs, rs, cs, kc, cols - full * NR);
}

// ---- blocking configurations

template <class T> GemmConfig<T> config_for(GemmIsa isa);
template <> GemmConfig<float> config_for<float>(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::avx512: return {12, 32, 384, 3072, 480, micro_avx512<Avx512F32, 12, 2>,
                               pack_a_avx512_f32, pack_b_avx512_f32};
    case GemmIsa::avx2: return {6, 16, 384, 3072, 480, micro_avx2<Avx2F32, 6, 2>, pack_a_avx2<float, 6>,
                             pack_b_avx2<float, 16>};
    case GemmIsa::scalar: break;
  }
  return {4, 8, 256, 1024, 256, micro_scalar<float, 4, 8>, pack_a_plain<float, 4>,
          pack_b_plain<float, 8>};
}
template <> GemmConfig<double> config_for<double>(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::avx512: return {12, 16, 256, 3072, 240, micro_avx512<Avx512F64, 12, 2>,
                               pack_a_avx512<double, 12>, pack_b_avx512<double, 16>};
    case GemmIsa::avx2: return {6, 8, 256, 3072, 240, micro_avx2<Avx2F64, 6, 2>, pack_a_avx2<double, 6>,
                             pack_b_avx2<double, 8>};
    case GemmIsa::scalar: break;
  }
  return {4, 8, 256, 1024, 256, micro_scalar<double, 4, 8>, pack_a_plain<double, 4>,
          pack_b_plain<double, 8>};
}

GemmIsa best_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return GemmIsa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::avx2;
  return GemmIsa::scalar;
}

GemmIsa& current_isa() {
  static GemmIsa isa = best_isa();
  return isa;
}

thread_local Scratch a_scratch, b_scratch;

// Below this many flops a GEMM runs on the calling thread.
constexpr double kParallelFlops = double(1 << 19);

template <class T>
void scale_c(T* c, int64_t m, int64_t n, int64_t rs, int64_t cs, T beta) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T& x = c[i * rs + j * cs];
      x = beta == T(0) ? T(0) : beta * x;
    }
}

// One matrix product; parallel says whether to use OpenMP threads. Loops as BLIS's: an
// mc x kc block of A is packed once (shared, in L3), each thread packs kc x nc blocks of B into
// its own L2 and runs every A micro-panel (held in L1) across the B block's micro-panels.
template <class T>
void gemm_one(const GemmConfig<T>& cfg, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
              int64_t a_rs, int64_t a_cs, const T* B, int64_t b_rs, int64_t b_cs, T beta, T* C,
              int64_t c_rs, int64_t c_cs, bool parallel) {
  if (M == 0 || N == 0) return;
  if (K == 0 || alpha == T(0)) {
    scale_c(C, M, N, c_rs, c_cs, beta);
    return;
  }
  const int MR = cfg.mr, NR = cfg.nr;
  const int nt = parallel ? omp_get_max_threads() : 1;
  const int64_t mc_max = std::min<int64_t>(cfg.mc, (M + MR - 1) / MR * MR);
  const int64_t kc_max = std::min<int64_t>(cfg.kc, K);
  // Column blocks of B, each a multiple of NR: a multiple of the thread count when N allows, so
  // every thread gets the same share.
  int64_t nblocks = (N + cfg.nc - 1) / cfg.nc;
  nblocks = std::min((nblocks + nt - 1) / nt * nt, (N + NR - 1) / NR);
  const int64_t nc = ((N + nblocks - 1) / nblocks + NR - 1) / NR * NR;
  nblocks = (N + nc - 1) / nc;
  T* apack = a_scratch.get<T>(size_t(mc_max * kc_max));
  for (int64_t ic = 0; ic < M; ic += cfg.mc) {
    const int64_t mcb = std::min<int64_t>(cfg.mc, M - ic), apanels = (mcb + MR - 1) / MR;
    // When there are fewer column blocks than threads, threads also share out A's micro-panels.
    const int64_t msplit = nblocks >= nt ? 1 : std::min<int64_t>(apanels, (nt + nblocks - 1) / nblocks);
    for (int64_t pc = 0; pc < K; pc += cfg.kc) {
      const int64_t kc = std::min<int64_t>(cfg.kc, K - pc);
      const T beta_k = pc == 0 ? beta : T(1);
      const T* ablock = A + ic * a_rs + pc * a_cs;
#pragma omp parallel num_threads(nt) if (nt > 1)
      {
        pack_a_block(cfg, apack, ablock, a_rs, a_cs, mcb, kc);
#pragma omp for schedule(static)
        for (int64_t task = 0; task < nblocks * msplit; ++task) {
          const int64_t jc = task / msplit * nc, ncb = std::min(nc, N - jc), bpanels = (ncb + NR - 1) / NR;
          const int64_t ip0 = apanels * (task % msplit) / msplit, ip1 = apanels * (task % msplit + 1) / msplit;
          T* bpack = b_scratch.get<T>(size_t(bpanels * NR * kc));
          const T* bblock = B + pc * b_rs + jc * b_cs;
          cfg.pack_b(bpack, bblock, b_rs, b_cs, kc, ncb);
          for (int64_t ip = ip0; ip < ip1; ++ip) {
            const int mr = int(std::min<int64_t>(MR, mcb - ip * MR));
            T* crow = C + (ic + ip * MR) * c_rs + jc * c_cs;
            for (int64_t jp = 0; jp < bpanels; ++jp)
              cfg.micro(kc, apack + ip * kc * MR, bpack + jp * kc * NR, crow + jp * NR * c_cs, c_rs,
                        c_cs, alpha, beta_k, mr, int(std::min<int64_t>(NR, ncb - jp * NR)));
          }
        }
      }
    }
  }
}

template <class T>
void gemm_typed(const GemmDesc& d) {
  const GemmConfig<T> cfg = gemm_config<T>();
  const T* A = static_cast<const T*>(d.a);
  const T* B = static_cast<const T*>(d.b);
  T* C = static_cast<T*>(d.c);
  T alpha = T(d.alpha), beta = T(d.beta);
  double flops = 2.0 * double(d.m) * double(d.n) * double(d.k);
  int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
  // Many small products: one per thread at a time, each serial.
  if (nt > 1 && d.batch >= nt && flops < 64 * kParallelFlops && flops * double(d.batch) >= kParallelFlops) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t b = 0; b < d.batch; ++b)
      gemm_one(cfg, d.m, d.n, d.k, alpha, A + b * d.a_bs, d.a_rs, d.a_cs, B + b * d.b_bs, d.b_rs,
               d.b_cs, beta, C + b * d.c_bs, d.c_rs, d.c_cs, false);
    return;
  }
  bool parallel = nt > 1 && flops >= kParallelFlops;
  for (int64_t b = 0; b < d.batch; ++b)
    gemm_one(cfg, d.m, d.n, d.k, alpha, A + b * d.a_bs, d.a_rs, d.a_cs, B + b * d.b_bs, d.b_rs,
             d.b_cs, beta, C + b * d.c_bs, d.c_rs, d.c_cs, parallel);
}

void gemm(const GemmDesc& d) {
  switch (d.dtype) {
    case DType::f32: gemm_typed<float>(d); break;
    case DType::f64: gemm_typed<double>(d); break;
    default:
      throw std::invalid_argument(std::string("gemm: dtype ") + dtype_name(d.dtype) +
                                  " is not supported (f32 or f64)");
  }
}

}  // namespace

template <class T>
GemmConfig<T> gemm_config() {
  return config_for<T>(current_isa());
}
template GemmConfig<float> gemm_config<float>();
template GemmConfig<double> gemm_config<double>();

GemmIsa gemm_isa() { return current_isa(); }

bool gemm_isa_supported(GemmIsa isa) { return int(isa) <= int(best_isa()); }

void set_gemm_isa(GemmIsa isa) {
  if (!gemm_isa_supported(isa))
    throw std::invalid_argument(std::string("gemm: this processor does not support ") +
                                gemm_isa_name(isa));
  current_isa() = isa;
}

const char* gemm_isa_name(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::avx512: return "avx512";
    case GemmIsa::avx2: return "avx2";
    case GemmIsa::scalar: return "scalar";
  }
  return "?";
}

MOX_REGISTER_KERNEL(gemm_stub, CPU, gemm);

}  // namespace mox::cpu
