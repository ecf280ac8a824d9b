// Stride-1 convolution on an extended output grid. With the input padded to Hp x Wp
// (Hp = oh + kh - 1, Wp = ow + kw - 1), tap (i, j) of output position (oy, ox) reads plane element
// (oy + i) * Wp + ox + j. Numbering positions p = oy * Wp + ox across the padded width makes every
// row of the GEMM's gathered operand a contiguous run of the plane, starting at i * Wp + j. So the
// micro-kernel loads those vectors from the plane itself, where a channel's kh * kw taps hit the
// same cache lines, instead of from a packed copy that holds each input element kh * kw times.
// The Wp - ow positions past each row's end are computed and dropped when storing; positions stop
// at the last real one, (oh - 1) * Wp + ow, so no load passes the plane's end.
#include "kernels/cpu/conv_direct.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm_config.h"
#include "kernels/linalg.h"

namespace mox::cpu {
namespace {

constexpr int kRows = 8;                // output channels per register tile
constexpr int kVectors = 3;             // 16-lane vectors of positions per register tile
constexpr int kTile = 16 * kVectors;    // positions per register tile
constexpr int kMaxRuns = 3;             // 16 lanes span at most 3 output rows when Wp >= 8
constexpr int64_t kMaxTaps = 576;       // beyond this ResNet-50's 3x3 layers run faster on the packed path

// Where a tile's lanes go: run r of vector v (its lanes in mask[v][r]) lies in one output row
// oy and lane l of it is stored at y + p0 + 16 v + l - shift[v][r], shift = oy * (Wp - ow).
struct StorePlan {
  int runs[kVectors];
  __mmask16 live[kVectors];  // lanes below the last position, loaded
  __mmask16 mask[kVectors][kMaxRuns];
  int64_t shift[kVectors][kMaxRuns];
};

StorePlan plan_stores(int64_t p0, int64_t positions, int64_t wp, int64_t ow) {
  StorePlan s{};
  for (int v = 0; v < kVectors; ++v) {
    int64_t row = -1;
    for (int l = 0; l < 16; ++l) {
      const int64_t p = p0 + 16 * v + l, oy = p / wp;
      if (p >= positions) break;
      s.live[v] |= __mmask16(1u << l);
      if (p % wp >= ow) continue;
      if (oy != row) {
        row = oy;
        s.shift[v][s.runs[v]++] = oy * (wp - ow);
      }
      s.mask[v][s.runs[v] - 1] |= __mmask16(1u << l);
    }
  }
  return s;
}

// One register tile: rows output channels (<= kRows) x kTile positions from p0. a: taps steps of
// kRows weights; xb: the plane at p0; koff[k]: tap k's offset in the planes; y: row 0 at p0;
// bias and relu applied as the tile is stored.
template <bool kFull>
[[gnu::target("avx512f")]] void micro_direct(int64_t taps, const float* a, const float* xb, const int32_t* koff,
                                             const StorePlan& s, float* y, int64_t y_rs, int rows,
                                             const float* bias, bool relu) {
  __m512 acc[kRows][kVectors];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < taps; ++k) {
    const float* b = xb + koff[k];
    __m512 bv[kVectors];
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v)
      bv[v] = kFull ? _mm512_loadu_ps(b + 16 * v) : _mm512_maskz_loadu_ps(s.live[v], b + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) {
      const __m512 av = _mm512_set1_ps(a[r]);
#pragma GCC unroll 3
      for (int v = 0; v < kVectors; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    a += kRows;
  }
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    if (r >= rows) continue;
    const __m512 bb = bias ? _mm512_set1_ps(bias[r]) : _mm512_setzero_ps();
#pragma GCC unroll 3
    for (int v = 0; v < kVectors; ++v) {
      __m512 out = _mm512_add_ps(acc[r][v], bb);
      if (relu) out = _mm512_maskz_max_ps(0xFFFF, out, _mm512_setzero_ps());  // NaN -> 0, as the relu op
      for (int q = 0; q < s.runs[v]; ++q)
        _mm512_mask_storeu_ps(y + r * y_rs + 16 * v - s.shift[v][q], s.mask[v][q], out);
    }
  }
}

// The image's channels [c0, c0 + channels) padded to hp x wp (zeros outside the input).
void pad_planes(float* dst, const float* x, const Conv2dGeom& g, int64_t channels, int64_t hp, int64_t wp) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = 0; r < hp; ++r) {
      float* d = dst + (c * hp + r) * wp;
      const int64_t iy = r - g.ph;
      const int64_t x0 = std::clamp<int64_t>(g.pw, 0, wp), x1 = std::clamp<int64_t>(g.pw + g.w, 0, wp);
      if (iy < 0 || iy >= g.h || x0 >= x1) {
        std::fill(d, d + wp, 0.0f);
        continue;
      }
      std::fill(d, d + x0, 0.0f);
      std::memcpy(d + x0, x + (c * g.h + iy) * g.w + (x0 - g.pw), size_t(x1 - x0) * sizeof(float));
      std::fill(d + x1, d + wp, 0.0f);
    }
}

// The padded grid of a convolution's input (see the file comment) and each tap's offset in it.
struct Grid {
  int64_t hp, wp, plane, positions;
  bool in_place;  // an unpadded input that is exactly the padded extent is read where it lies
  std::vector<int32_t> koff;  // tap (c, i, j) of a group: c * plane + i * wp + j
  Grid(const Conv2dGeom& g, int64_t cg)
      : hp(g.oh + g.kh - 1), wp(g.ow + g.kw - 1), positions((g.oh - 1) * wp + g.ow),
        in_place(g.ph == 0 && g.pw == 0 && g.h == hp && g.w == wp) {
    plane = hp * wp;
    for (int64_t c = 0; c < cg; ++c)
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) koff.push_back(int32_t(c * plane + i * wp + j));
  }
};

thread_local Scratch padded_scratch, spread_scratch;

// Image b's planes: x itself when the grid reads it in place, else padded into this thread's
// scratch (kept when the thread's last call padded the same image).
const float* image_planes(const Conv2dGeom& g, const Grid& grid, const float* x, int64_t b, int64_t& padded_image) {
  const float* xin = x + b * g.c * g.h * g.w;
  if (grid.in_place) return xin;
  float* buf = padded_scratch.get<float>(size_t(g.c * grid.plane));
  if (padded_image != b) pad_planes(buf, xin, g, g.c, grid.hp, grid.wp);
  padded_image = b;
  return buf;
}

// Weight gradient, one register tile: out[r * out_rs + n] += sum over positions p of
// a[r * lda + p] * xb[off[n] + p], r < rows, n < cols. a: kRows output-gradient rows on the padded
// grid, zero past each output row and up to lda (vecs * 16); the last vector of xb is masked by
// tail so no load passes the plane's end.
constexpr int kTaps = 3;  // a kernel row of taps: its three loads share cache lines

// The sum of v's lanes (the zero-masking forms: GCC 12 warns on the unmasked ones' undefined
// pass-through operand).
[[gnu::target("avx512f"), gnu::always_inline]] inline float sum_lanes(__m512 v) {
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_shuffle_f32x4(0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_maskz_permute_ps(0xFFFF, v, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm512_cvtss_f32(v);
}

// One step of micro_weight: positions [16 s, 16 s + 16), loads masked when kMasked.
template <bool kMasked>
[[gnu::target("avx512f"), gnu::always_inline]] inline void weight_step(__m512 (&acc)[kRows][kTaps], int64_t s,
                                                                      const float* a, int64_t lda, const float* xb,
                                                                      const int32_t* off, __mmask16 tail) {
  __m512 bv[kTaps];
#pragma GCC unroll 3
  for (int n = 0; n < kTaps; ++n)
    bv[n] = kMasked ? _mm512_maskz_loadu_ps(tail, xb + off[n] + 16 * s) : _mm512_loadu_ps(xb + off[n] + 16 * s);
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    __m512 av = _mm512_load_ps(a + r * lda + 16 * s);
    asm("" : "+v"(av));  // one load per row, not one folded into each of the row's products
#pragma GCC unroll 3
    for (int n = 0; n < kTaps; ++n) acc[r][n] = _mm512_fmadd_ps(av, bv[n], acc[r][n]);
  }
}

[[gnu::target("avx512f")]] void micro_weight(int64_t vecs, const float* a, int64_t lda, const float* xb,
                                             const int32_t* off, __mmask16 tail, float* out, int64_t out_rs,
                                             int rows, int cols) {
  __m512 acc[kRows][kTaps];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 3
    for (int n = 0; n < kTaps; ++n) acc[r][n] = _mm512_setzero_ps();
  for (int64_t s = 0; s + 1 < vecs; ++s) weight_step<false>(acc, s, a, lda, xb, off, tail);
  weight_step<true>(acc, vecs - 1, a, lda, xb, off, tail);
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 3
    for (int n = 0; n < kTaps; ++n)
      if (r < rows && n < cols) out[r * out_rs + n] += sum_lanes(acc[r][n]);
}

}  // namespace

bool conv_direct_applies(const Conv2dGeom& g, int64_t groups) {
  const int64_t wp = g.ow + g.kw - 1, hp = g.oh + g.kh - 1, cg = g.c / groups;
  return gemm_isa() == GemmIsa::avx512 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && wp >= 8 &&
         cg * g.kh * g.kw <= kMaxTaps && g.oh > 0 && g.ow > 0 && cg * hp * wp < INT32_MAX;
}

bool conv_direct_weight_applies(const Conv2dGeom& g, int64_t groups) {
  const int64_t positions = (g.oh - 1) * (g.ow + g.kw - 1) + g.ow;
  return conv_direct_applies(g, groups) && positions >= 256 && positions <= 1024;
}

void conv_direct_f32(const Conv2dGeom& g, int64_t groups, int64_t out_c, const float* x, const float* w,
                     const float* bias, bool relu, float* y) {
  const int64_t cg = g.c / groups, og = out_c / groups, taps = cg * g.kh * g.kw, ohw = g.oh * g.ow;
  const Grid grid(g, cg);
  const int64_t tiles = (grid.positions + kTile - 1) / kTile, panels = (og + kRows - 1) / kRows;
  std::vector<float> packed(size_t(groups * panels * taps * kRows), 0.0f);
  for (int64_t gi = 0; gi < groups; ++gi)
    for (int64_t o = 0; o < og; ++o)
      for (int64_t k = 0; k < taps; ++k)
        packed[size_t(((gi * panels + o / kRows) * taps + k) * kRows + o % kRows)] = w[(gi * og + o) * taps + k];
  std::vector<StorePlan> plans(static_cast<size_t>(tiles));
  for (int64_t t = 0; t < tiles; ++t) plans[size_t(t)] = plan_stores(t * kTile, grid.positions, grid.wp, g.ow);

  // Tasks are (image, range of tiles), a few per thread; a thread pads an image once for all
  // its consecutive tasks on it.
  const double flops = 2.0 * double(g.n) * double(out_c) * double(taps) * double(ohw);
  const int nt = omp_in_parallel() || flops < kConvParallelFlops ? 1 : omp_get_max_threads();
  const int64_t chunks = std::clamp<int64_t>((4 * nt + g.n - 1) / g.n, 1, tiles);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int64_t padded_image = -1;
#pragma omp for schedule(static)
    for (int64_t task = 0; task < g.n * chunks; ++task) {
      const int64_t b = task / chunks, t0 = tiles * (task % chunks) / chunks,
                    t1 = tiles * (task % chunks + 1) / chunks;
      const float* xin = image_planes(g, grid, x, b, padded_image);
      for (int64_t gi = 0; gi < groups; ++gi) {
        const float* xg = xin + gi * cg * grid.plane;
        float* yg = y + (b * out_c + gi * og) * ohw;
        for (int64_t p = 0; p < panels; ++p) {
          const int rows = int(std::min<int64_t>(kRows, og - p * kRows));
          const float* a = packed.data() + (gi * panels + p) * taps * kRows;
          const float* bias_p = bias ? bias + gi * og + p * kRows : nullptr;
          for (int64_t t = t0; t < t1; ++t)
            (t + 1 < tiles ? micro_direct<true> : micro_direct<false>)(taps, a, xg + t * kTile, grid.koff.data(),
                                                                       plans[size_t(t)], yg + p * kRows * ohw + t * kTile,
                                                                       ohw, rows, bias_p, relu);
        }
      }
    }
  }
}

void conv_direct_weight_f32(const Conv2dGeom& g, int64_t groups, int64_t out_c, const float* gy, const float* x,
                            float* gw, int64_t b0, int64_t b1) {
  const int64_t cg = g.c / groups, og = out_c / groups, taps = cg * g.kh * g.kw;
  const Grid grid(g, cg);
  const int64_t vecs = (grid.positions + 15) / 16, lda = vecs * 16, panels = (og + kRows - 1) / kRows;
  const int64_t blocks = (taps + kTaps - 1) / kTaps;
  const __mmask16 tail = __mmask16(grid.positions % 16 ? (1u << (grid.positions % 16)) - 1 : 0xFFFFu);
  std::vector<int32_t> off(grid.koff);
  off.resize(size_t(blocks * kTaps), off[0]);  // the last block's missing taps: computed, dropped
  // Each image's gy spread onto the padded grid, kRows rows per panel; what is never written
  // (past each row's end, rows past og) stays 0.
  float* spread = spread_scratch.get<float>(size_t(groups * panels * kRows * lda));
  std::fill(spread, spread + groups * panels * kRows * lda, 0.0f);
  std::fill(gw, gw + out_c * taps, 0.0f);
  int64_t padded_image = -1;
  for (int64_t b = b0; b < b1; ++b) {
    for (int64_t gi = 0; gi < groups; ++gi)
      for (int64_t o = 0; o < og; ++o)
        for (int64_t oy = 0; oy < g.oh; ++oy)
          std::memcpy(spread + (gi * panels * kRows + o) * lda + oy * grid.wp,
                      gy + ((b * out_c + gi * og + o) * g.oh + oy) * g.ow, size_t(g.ow) * sizeof(float));
    const float* xin = image_planes(g, grid, x, b, padded_image);
    for (int64_t gi = 0; gi < groups; ++gi)
      for (int64_t p = 0; p < panels; ++p) {
        const int rows = int(std::min<int64_t>(kRows, og - p * kRows));
        for (int64_t k = 0; k < blocks; ++k)
          micro_weight(vecs, spread + (gi * panels + p) * kRows * lda, lda, xin + gi * cg * grid.plane,
                       off.data() + k * kTaps, tail, gw + (gi * og + p * kRows) * taps + k * kTaps, taps, rows,
                       int(std::min<int64_t>(kTaps, taps - k * kTaps)));
      }
  }
}

}  // namespace mox::cpu
