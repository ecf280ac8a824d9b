// Convolution as an implicit GEMM on the CPU, NCHW, f32 and f64: the GEMM's B panels are
// gathered straight from the input while packing, so no column matrix is written and read
// back (im2col + GEMM moves every input pixel kh*kw times through memory; this moves it once
// per use, from cache).
//   forward:         y[g] (og x n*oh*ow)  = W[g] (og x cg*kh*kw) · X̂ (taps x positions)
//   weight gradient: gw[g] (og x taps)    = gy[g] (og x positions) · X̂ᵀ (positions x taps)
//   input gradient:  for stride 1, a forward convolution of gy with the flipped, transposed
//                    weight (padding dh*(kh-1) - ph), so it runs on the same path.
// X̂[tap (ci, i, j)][position (b, oy, ox)] = x[b, ci, oy*sh - ph + i*dh, ox*sw - pw + j*dw], 0 in
// the padding. Both indices split into a row part and a column part that add (offset, input
// row, input column), so one gathering packer serves X̂ and X̂ᵀ. Panels run on the GEMM's
// register-blocked micro-kernels (kernels/cpu/gemm_config.h); the AVX-512 f32 packer reads runs
// of addresses at step 1 or 2 with masked loads and gathers the rest. Stride-1 f32 convolutions
// (forward, and so the input gradient) run instead on kernels/cpu/conv_winograd.cpp (3x3, at
// least 16 channels in and out) or, with few taps, on kernels/cpu/conv_direct.cpp.
// Measured by bench_conv.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/common/functors.h"
#include "kernels/conv.h"
#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/conv_winograd.h"
#include "kernels/cpu/gemm_config.h"
#include "kernels/cpu/loop.h"
#include "kernels/linalg.h"

namespace mox::cpu {
namespace {

// B[r][c] = x[roff[r] + coff[c]] where input row ra[r] + ca[c] lies in [0, h) and input column
// rb[r] + cb[c] in [0, w); 0 elsewhere.
template <class T>
struct Gather {
  const T* x;
  const int32_t *roff, *ra, *rb;
  const int32_t *coff, *ca, *cb;
  int32_t h, w;
};

// Index parts of a convolution's taps and output positions (see the file comment).
struct IndexParts {
  std::vector<int32_t> off, row, col;
  explicit IndexParts(int64_t n) {
    off.reserve(size_t(n));
    row.reserve(size_t(n));
    col.reserve(size_t(n));
  }
  void push(int64_t o, int64_t r, int64_t c) {
    off.push_back(int32_t(o));
    row.push_back(int32_t(r));
    col.push_back(int32_t(c));
  }
};

IndexParts tap_parts(const Conv2dGeom& g, int64_t channels) {
  IndexParts p(channels * g.kh * g.kw);
  for (int64_t ci = 0; ci < channels; ++ci)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) p.push(ci * g.h * g.w + i * g.dh * g.w + j * g.dw, i * g.dh, j * g.dw);
  return p;
}

IndexParts position_parts(const Conv2dGeom& g, int64_t images) {
  IndexParts p(images * g.oh * g.ow);
  for (int64_t b = 0; b < images; ++b)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        int64_t iy = oy * g.sh - g.ph, ix = ox * g.sw - g.pw;
        p.push(b * g.c * g.h * g.w + iy * g.w + ix, iy, ix);
      }
  return p;
}

template <class T>
Gather<T> gather(const T* x, const Conv2dGeom& g, const IndexParts& rows, const IndexParts& cols) {
  return {x, rows.off.data(), rows.row.data(), rows.col.data(), cols.off.data(), cols.row.data(),
          cols.col.data(), int32_t(g.h), int32_t(g.w)};
}

// ---- packing B: panels of NR columns (zero-padded past column n), kc rows from r0, panel q
// of a block at dst + q * kc * NR

template <class T>
void pack_gather_plain(T* dst, const Gather<T>& g, int64_t r0, int64_t kc, int64_t c0, int64_t n,
                       int panels, int nr) {
  for (int q = 0; q < panels; ++q)
    for (int64_t r = 0; r < kc; ++r) {
      const int32_t ro = g.roff[r0 + r], ra = g.ra[r0 + r], rb = g.rb[r0 + r];
      T* d = dst + (q * kc + r) * nr;
      for (int j = 0; j < nr; ++j) {
        const int64_t c = c0 + q * nr + j;
        if (c >= n) {
          d[j] = T(0);
          continue;
        }
        uint32_t y = uint32_t(ra + g.ca[c]), x = uint32_t(rb + g.cb[c]);
        d[j] = y < uint32_t(g.h) && x < uint32_t(g.w) ? g.x[ro + g.coff[c]] : T(0);
      }
    }
}

// f32, NR = 32: 16-lane vectors, two per panel row. A vector whose offsets form at most
// kMaxRuns runs with a step of 1 (positions along an output row at stride 1, which break where
// the row ends) is read with one masked load per run; with a step of 2 (stride 2), with two
// masked loads and a permute keeping the even elements; the masks also drop the padding. Any
// other vector is gathered. Rows go outermost so each input row is read along the whole block
// in one sweep.
constexpr int kMaxRuns = 8;
constexpr int kBlockPanels = 8;  // panels packed together: a kc x 256 block stays in L2

struct VectorPlan {
  __m512i coff, ca, cb;
  __mmask16 live, run_mask[kMaxRuns];
  int32_t run_base[kMaxRuns];  // lane j of a run reads x[ro + run_base + step * j]
  int runs, step;              // step 0: gather
};

// Splits the lanes' offsets into runs of the given step; false if there are more than kMaxRuns.
bool find_runs(VectorPlan& v, const int32_t* off, int lanes, int step) {
  v.runs = 0;
  for (int j = 0; j < lanes; ++j) {
    if (j == 0 || off[j] != off[j - 1] + step) {
      if (++v.runs > kMaxRuns) return false;
      v.run_mask[v.runs - 1] = 0;
      v.run_base[v.runs - 1] = off[j] - step * j;
    }
    v.run_mask[v.runs - 1] |= __mmask16(1u << j);
  }
  v.step = step;
  return true;
}

[[gnu::target("avx512f")]] void plan_vector(VectorPlan& v, const Gather<float>& g, int64_t c, int64_t n) {
  const int lanes = int(std::clamp<int64_t>(n - c, 0, 16));
  v.live = __mmask16((1u << lanes) - 1);
  v.coff = _mm512_maskz_loadu_epi32(v.live, g.coff + c);
  v.ca = _mm512_maskz_loadu_epi32(v.live, g.ca + c);
  v.cb = _mm512_maskz_loadu_epi32(v.live, g.cb + c);
  if (!find_runs(v, g.coff + c, lanes, 1) && !find_runs(v, g.coff + c, lanes, 2)) v.step = 0;
}

[[gnu::target("avx512f,bmi2")]] void pack_gather_avx512(float* dst, const Gather<float>& g, int64_t r0,
                                                        int64_t kc, int64_t c0, int64_t n, int panels) {
  VectorPlan plan[2 * kBlockPanels];
  for (int v = 0; v < 2 * panels; ++v) plan_vector(plan[v], g, c0 + 16 * v, n);
  const __m512i h = _mm512_set1_epi32(g.h), w = _mm512_set1_epi32(g.w);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t r = 0; r < kc; ++r) {
    const int32_t ro = g.roff[r0 + r];
    const __m512i ra = _mm512_set1_epi32(g.ra[r0 + r]), rb = _mm512_set1_epi32(g.rb[r0 + r]);
    for (int v = 0; v < 2 * panels; ++v) {
      const VectorPlan& p = plan[v];
      const __mmask16 m = p.live & _mm512_cmplt_epu32_mask(_mm512_add_epi32(p.ca, ra), h) &
                          _mm512_cmplt_epu32_mask(_mm512_add_epi32(p.cb, rb), w);
      __m512 val = _mm512_setzero_ps();
      if (p.step == 1) {
        for (int k = 0; k < p.runs; ++k)
          val = _mm512_mask_loadu_ps(val, m & p.run_mask[k], g.x + (int64_t(ro) + p.run_base[k]));
      } else if (p.step == 2) {
        for (int k = 0; k < p.runs; ++k) {
          const __mmask16 lanes = m & p.run_mask[k];
          const uint32_t wide = _pdep_u32(lanes, 0x55555555u);  // lane j -> element 2j
          const float* src = g.x + (int64_t(ro) + p.run_base[k]);
          __m512 lo = _mm512_maskz_loadu_ps(__mmask16(wide), src);
          __m512 hi = _mm512_maskz_loadu_ps(__mmask16(wide >> 16), src + 16);
          val = _mm512_mask_mov_ps(val, lanes, _mm512_permutex2var_ps(lo, even, hi));
        }
      } else {
        val = _mm512_mask_i32gather_ps(val, m, _mm512_add_epi32(p.coff, _mm512_set1_epi32(ro)), g.x, 4);
      }
      _mm512_storeu_ps(dst + ((v / 2) * kc + r) * 32 + 16 * (v % 2), val);
    }
  }
}

bool has_bmi2() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("bmi2");
  }();
  return yes;
}

template <class T>
void pack_gather(T* dst, const Gather<T>& g, int64_t r0, int64_t kc, int64_t c0, int64_t n, int panels, int nr) {
  if constexpr (std::is_same_v<T, float>) {
    if (nr == 32 && gemm_isa() == GemmIsa::avx512 && has_bmi2()) return pack_gather_avx512(dst, g, r0, kc, c0, n, panels);
  }
  pack_gather_plain(dst, g, r0, kc, c0, n, panels, nr);
}

// ---- the driver

// A's columns [k0, k1) start at a (its column k0); the K loop never crosses a segment, so A
// may jump between them (one segment per image for the weight gradient).
template <class T>
struct KSegment {
  int64_t k0, k1;
  const T* a;
};

thread_local Scratch a_scratch, panel_scratch;

// C = A · B + beta * C (+ row_bias[m] on row m, when given) with A M x K (strides a_rs, a_cs
// within a segment), B gathered (K x N), C's element (m, n) at c + m * c_rs + ccol[n] (ccol
// strictly increasing). The bias is added to each C tile just after its first product, while
// the tile is in cache.
template <class T>
void implicit_gemm(int64_t M, const std::vector<KSegment<T>>& segs, int64_t a_rs, int64_t a_cs,
                   const Gather<T>& b, int64_t N, T* c, const int64_t* ccol, int64_t c_rs, T beta,
                   const T* row_bias) {
  const GemmConfig<T> cfg = gemm_config<T>();
  const int MR = cfg.mr, NR = cfg.nr;
  const int64_t panels = (N + NR - 1) / NR, K = segs.empty() ? 0 : segs.back().k1 - segs.front().k0;
  const int nt = omp_in_parallel() || 2.0 * double(M) * double(N) * double(K) < kConvParallelFlops
                     ? 1
                     : omp_get_max_threads();
  // Blocks of panels, at least two per thread when there are enough panels.
  const int64_t block_panels = std::clamp<int64_t>(panels / (2 * nt), 1, kBlockPanels);
  const int64_t blocks = (panels + block_panels - 1) / block_panels;
  T* apack = a_scratch.get<T>(size_t(std::min<int64_t>(cfg.mc, (M + MR - 1) / MR * MR) * cfg.kc));
  for (int64_t ic = 0; ic < M; ic += cfg.mc) {
    const int64_t mcb = std::min<int64_t>(cfg.mc, M - ic), apanels = (mcb + MR - 1) / MR;
    bool first = true;
    for (const KSegment<T>& seg : segs)
      for (int64_t k0 = seg.k0; k0 < seg.k1; k0 += cfg.kc) {
        const int64_t kc = std::min<int64_t>(cfg.kc, seg.k1 - k0);
        const T beta_k = first ? beta : T(1);
        const bool add_bias = first && row_bias;
        first = false;
        const T* ablock = seg.a + (k0 - seg.k0) * a_cs + ic * a_rs;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
          pack_a_block(cfg, apack, ablock, a_rs, a_cs, mcb, kc);
#pragma omp for schedule(static)
          for (int64_t jb = 0; jb < blocks; ++jb) {
            const int64_t p0 = jb * block_panels;
            const int np = int(std::min<int64_t>(block_panels, panels - p0));
            T* bp = panel_scratch.get<T>(size_t(np * kc * NR + MR * NR));
            T* tile = bp + np * kc * NR;
            pack_gather(bp, b, k0, kc, p0 * NR, N, np, NR);
            for (int64_t ip = 0; ip < apanels; ++ip) {
              const int mr = int(std::min<int64_t>(MR, mcb - ip * MR));
              T* crow = c + (ic + ip * MR) * c_rs;
              for (int q = 0; q < np; ++q) {
                const int64_t n0 = (p0 + q) * NR;
                const int cols = int(std::min<int64_t>(NR, N - n0));
                const T* bq = bp + q * kc * NR;
                const T* bias = add_bias ? row_bias + ic + ip * MR : nullptr;
                // Columns at consecutive addresses: the micro-kernel writes C itself.
                if (ccol[n0 + cols - 1] - ccol[n0] == cols - 1) {
                  T* ct = crow + ccol[n0];
                  cfg.micro(kc, apack + ip * kc * MR, bq, ct, c_rs, 1, T(1), beta_k, mr, cols);
                  if (bias)
                    for (int i = 0; i < mr; ++i)
                      for (int j = 0; j < cols; ++j) ct[i * c_rs + j] += bias[i];
                  continue;
                }
                cfg.micro(kc, apack + ip * kc * MR, bq, tile, NR, 1, T(1), T(0), mr, cols);
                // The tile's columns in runs at consecutive addresses (an image's positions).
                for (int j0 = 0, j1; j0 < cols; j0 = j1) {
                  for (j1 = j0 + 1; j1 < cols && ccol[n0 + j1] == ccol[n0 + j1 - 1] + 1; ++j1) {
                  }
                  for (int i = 0; i < mr; ++i) {
                    T* d = crow + i * c_rs + ccol[n0 + j0];
                    const T* t = tile + i * NR;
                    const T b = bias ? bias[i] : T(0);
                    if (beta_k == T(0))
                      for (int j = j0; j < j1; ++j) d[j - j0] = t[j] + b;
                    else
                      for (int j = j0; j < j1; ++j) d[j - j0] = t[j] + b + beta_k * d[j - j0];
                  }
                }
              }
            }
          }
        }
      }
  }
}

// Images per pass, so every gathered offset fits in 32 bits.
int64_t images_per_pass(const Conv2dGeom& g) {
  const int64_t per_image = std::max<int64_t>(1, g.c * g.h * g.w);
  return std::clamp<int64_t>(INT32_MAX / per_image - 1, 1, std::max<int64_t>(1, g.n));
}

template <class T>
void forward_typed(const Conv2dGeom& g, int64_t groups, int64_t out_c, const T* x, const T* w, const T* bias,
                   bool relu, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv_winograd_applies(g, groups, out_c)) return conv_winograd_f32(g, out_c, x, w, bias, relu, y);
    if (conv_direct_applies(g, groups)) return conv_direct_f32(g, groups, out_c, x, w, bias, relu, y);
  }
  const int64_t cg = g.c / groups, og = out_c / groups, taps = cg * g.kh * g.kw, ohw = g.oh * g.ow;
  const IndexParts rows = tap_parts(g, cg);
  const int64_t step = images_per_pass(g);
  for (int64_t n0 = 0; n0 < g.n; n0 += step) {
    const int64_t images = std::min(step, g.n - n0);
    const IndexParts cols = position_parts(g, images);
    std::vector<int64_t> ccol(size_t(images * ohw));
    for (int64_t b = 0; b < images; ++b)
      for (int64_t p = 0; p < ohw; ++p) ccol[size_t(b * ohw + p)] = b * out_c * ohw + p;
    const T* xs = x + n0 * g.c * g.h * g.w;
    T* ys = y + n0 * out_c * ohw;
    for (int64_t gi = 0; gi < groups; ++gi)
      implicit_gemm<T>(og, {{0, taps, w + gi * og * taps}}, taps, 1,
                       gather(xs + gi * cg * g.h * g.w, g, rows, cols), images * ohw,
                       ys + gi * og * ohw, ccol.data(), ohw, T(0), bias ? bias + gi * og : nullptr);
    if (relu)
      parallel_range(images * out_c * ohw, [ys](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) ys[i] = fn::Relu{}.f(ys[i]);
      });
  }
}

// gw = beta * gw + the weight gradient of images [b0, b1).
template <class T>
void weight_grad_images(const Conv2dGeom& g, int64_t groups, int64_t out_c, const T* gy, const T* x, T* gw,
                        int64_t b0, int64_t b1, T beta) {
  const int64_t cg = g.c / groups, og = out_c / groups, taps = cg * g.kh * g.kw, ohw = g.oh * g.ow;
  const IndexParts cols = tap_parts(g, cg);
  std::vector<int64_t> ccol(static_cast<size_t>(taps));
  for (int64_t t = 0; t < taps; ++t) ccol[size_t(t)] = t;
  const int64_t step = images_per_pass(g);
  for (int64_t n0 = b0; n0 < b1; n0 += step) {
    const int64_t images = std::min(step, b1 - n0);
    const IndexParts rows = position_parts(g, images);
    const T* xs = x + n0 * g.c * g.h * g.w;
    for (int64_t gi = 0; gi < groups; ++gi) {
      std::vector<KSegment<T>> segs;
      for (int64_t b = 0; b < images; ++b)
        segs.push_back({b * ohw, (b + 1) * ohw, gy + ((n0 + b) * out_c + gi * og) * ohw});
      implicit_gemm<T>(og, segs, ohw, 1, gather(xs + gi * cg * g.h * g.w, g, rows, cols), taps,
                       gw + gi * og * taps, ccol.data(), taps, n0 == b0 ? beta : T(1), nullptr);
    }
  }
}

thread_local Scratch partial_scratch;

// The weight gradient is small next to its K (every position of every image), so threads split
// the images, each summing into its own copy, and the copies are added: no fork and join per K
// block, and every thread busy however few column panels the gradient has.
template <class T>
void backward_weight_typed(const Conv2dGeom& g, int64_t groups, int64_t out_c, const T* gy, const T* x, T* gw) {
  const int64_t size = out_c * (g.c / groups) * g.kh * g.kw;
  const int64_t nt = omp_in_parallel() ? 1 : std::min<int64_t>(omp_get_max_threads(), g.n);
  // gw = the gradient of images [b0, b1)
  auto images = [&](T* dst, int64_t b0, int64_t b1) {
    if constexpr (std::is_same_v<T, float>) {
      if (conv_winograd_applies(g, groups, out_c)) return conv_winograd_weight_f32(g, out_c, gy, x, dst, b0, b1);
      if (conv_direct_weight_applies(g, groups)) return conv_direct_weight_f32(g, groups, out_c, gy, x, dst, b0, b1);
    }
    weight_grad_images(g, groups, out_c, gy, x, dst, b0, b1, T(0));
  };
  if (nt == 1 || 2.0 * double(size) * double(g.n * g.oh * g.ow) < kConvParallelFlops) {
    images(gw, 0, g.n);
    return;
  }
  T* partial = partial_scratch.get<T>(size_t((nt - 1) * size));
#pragma omp parallel num_threads(int(nt))
  {
    const int64_t t = omp_get_thread_num();
    images(t == 0 ? gw : partial + (t - 1) * size, t * g.n / nt, (t + 1) * g.n / nt);
#pragma omp barrier
    for (int64_t u = 0; u + 1 < nt; ++u) {
      const T* p = partial + u * size;
#pragma omp for schedule(static)
      for (int64_t i = 0; i < size; ++i) gw[i] += p[i];
    }
  }
}

// The input gradient of a stride-1 convolution is the forward convolution of gy with weight
// wf[g*cg + ci, o, i, j] = w[g*og + o, ci, kh-1-i, kw-1-j] and padding dh*(kh-1) - ph.
template <class T>
void backward_input_typed(const Conv2dGeom& g, int64_t groups, int64_t out_c, const T* gy, const T* w, T* gx) {
  const int64_t cg = g.c / groups, og = out_c / groups, kk = g.kh * g.kw;
  std::vector<T> wf(size_t(out_c * cg * kk));
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t o = 0; o < og; ++o)
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t t = 0; t < kk; ++t)
          wf[size_t(((gi * cg + ci) * og + o) * kk + (kk - 1 - t))] = w[((gi * og + o) * cg + ci) * kk + t];
  forward_typed(input_grad_geom(g, out_c), groups, g.c, gy, wf.data(), static_cast<const T*>(nullptr), false, gx);
}

void forward(DType dt, const Conv2dGeom& g, int64_t groups, int64_t out_c, const void* x, const void* w,
             const void* bias, bool relu, void* y) {
  MOX_DISPATCH_FLOAT(dt, T, unsupported("conv2d", dt, "f32 or f64"),
                     forward_typed(g, groups, out_c, static_cast<const T*>(x), static_cast<const T*>(w),
                                   static_cast<const T*>(bias), relu, static_cast<T*>(y)));
}

void backward_weight(DType dt, const Conv2dGeom& g, int64_t groups, int64_t out_c, const void* gy,
                     const void* x, void* gw) {
  MOX_DISPATCH_FLOAT(dt, T, unsupported("conv2d_backward_weight", dt, "f32 or f64"),
                     backward_weight_typed(g, groups, out_c, static_cast<const T*>(gy),
                                           static_cast<const T*>(x), static_cast<T*>(gw)));
}

void backward_input(DType dt, const Conv2dGeom& g, int64_t groups, int64_t out_c, const void* gy,
                    const void* w, void* gx) {
  if (!input_grad_is_convolution(g))
    throw std::invalid_argument("conv2d_backward_input: the implicit GEMM needs stride 1 and padding "
                                "at most dilation*(kernel-1)");
  MOX_DISPATCH_FLOAT(dt, T, unsupported("conv2d_backward_input", dt, "f32 or f64"),
                     backward_input_typed(g, groups, out_c, static_cast<const T*>(gy),
                                          static_cast<const T*>(w), static_cast<T*>(gx)));
}

}  // namespace

MOX_REGISTER_KERNEL(conv2d_implicit_stub, CPU, forward);
MOX_REGISTER_KERNEL(conv2d_implicit_backward_weight_stub, CPU, backward_weight);
MOX_REGISTER_KERNEL(conv2d_implicit_backward_input_stub, CPU, backward_input);

}  // namespace mox::cpu
