// CPU convolution helpers and pooling, NCHW, f32 and f64.
// im2col / col2im turn a convolution (forward, input gradient, weight gradient) into GEMMs:
// im2col copies each kernel tap's view of a channel into a row of [c*kh*kw, oh*ow] columns, and
// col2im adds such rows back onto the input. Depthwise convolution (one input channel per
// group) runs direct loops instead, vectorized along output rows. Max pooling records the
// argmax per output for its backward; average pooling covers the plain (padding, ceil mode,
// count_include_pad) and the adaptive window rules. Every kernel splits its work over
// (image, channel) planes with OpenMP; no two threads write the same plane (the depthwise
// weight gradient splits over output channels). Measured by bench_conv.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/conv.h"
#include "kernels/cpu/loop.h"
#include "kernels/linalg.h"

namespace mox::cpu {
namespace {

// Outputs ox in [lo, hi) read input column ox*stride + off inside [0, size).
void valid_range(int64_t off, int64_t stride, int64_t size, int64_t n_out, int64_t& lo, int64_t& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  hi = size - 1 - off < 0 ? 0 : (size - 1 - off) / stride + 1;
  if (lo > n_out) lo = n_out;
  if (hi > n_out) hi = n_out;
  if (hi < lo) hi = lo;
}

// Runs body(b, ci) for every (image, channel) pair, in parallel when the work is large.
template <class Body>
void for_each_plane(int64_t n, int64_t c, int64_t work_per_plane, Body body) {
  int64_t planes = n * c;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * work_per_plane > kParallelGrain)
  for (int64_t pl = 0; pl < planes; ++pl) body(pl / c, pl % c);
}

template <class T>
void im2col_typed(const Conv2dGeom& g, const T* x, T* col) {
  const int64_t ohw = g.oh * g.ow, taps = g.kh * g.kw;
  for_each_plane(g.n, g.c, taps * ohw, [&](int64_t b, int64_t ci) {
    const T* xp = x + (b * g.c + ci) * g.h * g.w;
    T* cp = col + (b * g.c + ci) * taps * ohw;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = cp + (i * g.kw + j) * ohw;
        int64_t xoff = j * g.dw - g.pw, lo, hi;
        valid_range(xoff, g.sw, g.w, g.ow, lo, hi);
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          T* r = row + oy * g.ow;
          int64_t iy = oy * g.sh - g.ph + i * g.dh;
          if (iy < 0 || iy >= g.h) {
            for (int64_t ox = 0; ox < g.ow; ++ox) r[ox] = T(0);
            continue;
          }
          const T* src = xp + iy * g.w + xoff;
          for (int64_t ox = 0; ox < lo; ++ox) r[ox] = T(0);
          if (g.sw == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) r[ox] = src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) r[ox] = src[ox * g.sw];
          }
          for (int64_t ox = hi; ox < g.ow; ++ox) r[ox] = T(0);
        }
      }
  });
}

template <class T>
void col2im_typed(const Conv2dGeom& g, const T* col, T* x) {
  const int64_t ohw = g.oh * g.ow, taps = g.kh * g.kw;
  for_each_plane(g.n, g.c, taps * ohw, [&](int64_t b, int64_t ci) {
    T* xp = x + (b * g.c + ci) * g.h * g.w;
    const T* cp = col + (b * g.c + ci) * taps * ohw;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* row = cp + (i * g.kw + j) * ohw;
        int64_t xoff = j * g.dw - g.pw, lo, hi;
        valid_range(xoff, g.sw, g.w, g.ow, lo, hi);
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          int64_t iy = oy * g.sh - g.ph + i * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          const T* r = row + oy * g.ow;
          T* dst = xp + iy * g.w + xoff;
          for (int64_t ox = lo; ox < hi; ++ox) dst[ox * g.sw] += r[ox];
        }
      }
  });
}

void im2col(DType t, const Conv2dGeom& g, const void* x, void* col) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("im2col", t, "f32 or f64"),
                     im2col_typed(g, static_cast<const T*>(x), static_cast<T*>(col)));
}

void col2im(DType t, const Conv2dGeom& g, const void* col, void* x) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("col2im", t, "f32 or f64"),
                     col2im_typed(g, static_cast<const T*>(col), static_cast<T*>(x)));
}

// ---- depthwise convolution, direct

// Calls row(oy, iy, lo, hi, xoff) for every output row that kernel tap (i, j) reads, with the
// input row iy, the valid output columns [lo, hi) and the input column offset of column 0.
template <class Row>
void for_each_tap_row(const Conv2dGeom& g, int64_t i, int64_t j, Row row) {
  int64_t xoff = j * g.dw - g.pw, lo, hi;
  valid_range(xoff, g.sw, g.w, g.ow, lo, hi);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    int64_t iy = oy * g.sh - g.ph + i * g.dh;
    if (iy >= 0 && iy < g.h) row(oy, iy, lo, hi, xoff);
  }
}

template <class T>
void depthwise_typed(const Conv2dGeom& g, int64_t mult, const T* x, const T* w, T* y) {
  const int64_t oc = g.c * mult, ohw = g.oh * g.ow, taps = g.kh * g.kw;
  for_each_plane(g.n, oc, taps * ohw, [&](int64_t b, int64_t o) {
    const T* xp = x + (b * g.c + o / mult) * g.h * g.w;
    T* yp = y + (b * oc + o) * ohw;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T wv = w[o * taps + i * g.kw + j];
        for_each_tap_row(g, i, j, [&](int64_t oy, int64_t iy, int64_t lo, int64_t hi, int64_t xoff) {
          const T* src = xp + iy * g.w + xoff;
          T* dst = yp + oy * g.ow;
          if (g.sw == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += wv * src[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox] += wv * src[ox * g.sw];
          }
        });
      }
  });
}

template <class T>
void depthwise_backward_input_typed(const Conv2dGeom& g, int64_t mult, const T* gy, const T* w, T* gx) {
  const int64_t oc = g.c * mult, ohw = g.oh * g.ow, taps = g.kh * g.kw;
  for_each_plane(g.n, g.c, mult * taps * ohw, [&](int64_t b, int64_t ci) {
    T* xp = gx + (b * g.c + ci) * g.h * g.w;
    for (int64_t k = 0; k < g.h * g.w; ++k) xp[k] = T(0);
    for (int64_t o = ci * mult; o < (ci + 1) * mult; ++o) {
      const T* gp = gy + (b * oc + o) * ohw;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          T wv = w[o * taps + i * g.kw + j];
          for_each_tap_row(g, i, j, [&](int64_t oy, int64_t iy, int64_t lo, int64_t hi, int64_t xoff) {
            T* dst = xp + iy * g.w + xoff;
            const T* src = gp + oy * g.ow;
            for (int64_t ox = lo; ox < hi; ++ox) dst[ox * g.sw] += wv * src[ox];
          });
        }
    }
  });
}

template <class T>
void depthwise_backward_weight_typed(const Conv2dGeom& g, int64_t mult, const T* gy, const T* x, T* gw) {
  const int64_t oc = g.c * mult, ohw = g.oh * g.ow, taps = g.kh * g.kw;
  for_each_plane(1, oc, g.n * taps * ohw, [&](int64_t, int64_t o) {
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        double total = 0;  // rows sum in T, the rows in double
        for (int64_t b = 0; b < g.n; ++b) {
          const T* xp = x + (b * g.c + o / mult) * g.h * g.w;
          const T* gp = gy + (b * oc + o) * ohw;
          for_each_tap_row(g, i, j, [&](int64_t oy, int64_t iy, int64_t lo, int64_t hi, int64_t xoff) {
            const T* src = xp + iy * g.w + xoff;
            const T* gr = gp + oy * g.ow;
            T lane[8] = {};  // independent partial sums, so the loop vectorizes
            int64_t ox = lo;
            for (; ox + 8 <= hi; ox += 8)
              for (int l = 0; l < 8; ++l) lane[l] += gr[ox + l] * src[(ox + l) * g.sw];
            for (; ox < hi; ++ox) lane[0] += gr[ox] * src[ox * g.sw];
            T s = T(0);
            for (int l = 0; l < 8; ++l) s += lane[l];
            total += double(s);
          });
        }
        gw[o * taps + i * g.kw + j] = T(total);
      }
  });
}

void depthwise_conv2d(DType t, const Conv2dGeom& g, int64_t mult, const void* x, const void* w, void* y) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("depthwise_conv2d", t, "f32 or f64"),
                     depthwise_typed(g, mult, static_cast<const T*>(x), static_cast<const T*>(w),
                                     static_cast<T*>(y)));
}

void depthwise_backward_input(DType t, const Conv2dGeom& g, int64_t mult, const void* gy,
                              const void* w, void* gx) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("depthwise_backward_input", t, "f32 or f64"),
                     depthwise_backward_input_typed(g, mult, static_cast<const T*>(gy),
                                                    static_cast<const T*>(w), static_cast<T*>(gx)));
}

void depthwise_backward_weight(DType t, const Conv2dGeom& g, int64_t mult, const void* gy,
                               const void* x, void* gw) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("depthwise_backward_weight", t, "f32 or f64"),
                     depthwise_backward_weight_typed(g, mult, static_cast<const T*>(gy),
                                                     static_cast<const T*>(x), static_cast<T*>(gw)));
}

// ---- pooling

// The input window of output (oy, ox), clipped to the plane, and its averaging divisor.
struct Window {
  int64_t h0, h1, w0, w1, divisor;
};

Window window(const Pool2dGeom& g, int64_t oy, int64_t ox) {
  Window win;
  if (g.adaptive) {
    win.h0 = oy * g.h / g.oh;
    win.h1 = ((oy + 1) * g.h + g.oh - 1) / g.oh;
    win.w0 = ox * g.w / g.ow;
    win.w1 = ((ox + 1) * g.w + g.ow - 1) / g.ow;
    win.divisor = (win.h1 - win.h0) * (win.w1 - win.w0);
    return win;
  }
  int64_t h0 = oy * g.sh - g.ph, w0 = ox * g.sw - g.pw;
  int64_t h1 = std::min(h0 + g.kh, g.h + g.ph), w1 = std::min(w0 + g.kw, g.w + g.pw);
  int64_t padded = (h1 - h0) * (w1 - w0);
  win.h0 = std::max<int64_t>(h0, 0);
  win.w0 = std::max<int64_t>(w0, 0);
  win.h1 = std::min(h1, g.h);
  win.w1 = std::min(w1, g.w);
  win.divisor = g.count_include_pad ? padded : (win.h1 - win.h0) * (win.w1 - win.w0);
  return win;
}

template <class Body>
void for_each_pool_plane(const Pool2dGeom& g, Body body) {
  int64_t work = g.oh * g.ow * std::max<int64_t>(1, g.adaptive ? 1 : g.kh * g.kw);
#pragma omp parallel for schedule(static) if (g.planes > 1 && g.planes * work > kParallelGrain)
  for (int64_t p = 0; p < g.planes; ++p) body(p);
}

bool is_full_2x2(const Pool2dGeom& g) {
  return !g.adaptive && g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
         2 * g.oh <= g.h && 2 * g.ow <= g.w;
}

// One output row of 2x2 stride-2 max pooling in f32 from input rows r0 and r1 (r0 at plane
// offset at0), 16 outputs a step, branch-free. Same choices as the general loop: in the order
// (0,0), (0,1), (1,0), (1,1), a larger value or a NaN replaces the best so far.
[[gnu::target("avx512f")]] void max_pool_2x2_row_avx512(const float* r0, const float* r1, int32_t w, int64_t ow,
                                                      int64_t at0, float* y, int64_t* idx) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lanes2 = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  for (int64_t ox = 0; ox < ow; ox += 16) {
    const int n = int(std::min<int64_t>(16, ow - ox));
    const uint32_t in_mask = n == 16 ? ~0u : (1u << (2 * n)) - 1;  // the row's 2n inputs
    const __mmask16 lo_mask = __mmask16(in_mask), hi_mask = __mmask16(in_mask >> 16);
    __m512 v[4];  // (0,0), (0,1), (1,0), (1,1) of each window
    for (int r = 0; r < 2; ++r) {
      const float* src = (r == 0 ? r0 : r1) + 2 * ox;
      const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, src), hi = _mm512_maskz_loadu_ps(hi_mask, src + 16);
      v[2 * r] = _mm512_permutex2var_ps(lo, even, hi);
      v[2 * r + 1] = _mm512_permutex2var_ps(lo, odd, hi);
    }
    const int64_t offset[4] = {0, 1, w, w + 1};
    __m512 best = v[0];
    __m512i pick_lo = _mm512_setzero_si512(), pick_hi = pick_lo;  // the chosen offsets, lanes 0-7 and 8-15
    for (int t = 1; t < 4; ++t) {
      const __mmask16 take = _mm512_cmp_ps_mask(v[t], best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v[t], v[t], _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, take, v[t]);
      pick_lo = _mm512_mask_mov_epi64(pick_lo, __mmask8(take), _mm512_set1_epi64(offset[t]));
      pick_hi = _mm512_mask_mov_epi64(pick_hi, __mmask8(take >> 8), _mm512_set1_epi64(offset[t]));
    }
    const __mmask16 live = __mmask16((1u << n) - 1);
    _mm512_mask_storeu_ps(y + ox, live, best);
    const __m512i base = _mm512_add_epi64(_mm512_set1_epi64(at0 + 2 * ox), lanes2);
    _mm512_mask_storeu_epi64(idx + ox, __mmask8(live), _mm512_add_epi64(base, pick_lo));
    _mm512_mask_storeu_epi64(idx + ox + 8, __mmask8(live >> 8),
                             _mm512_add_epi64(_mm512_add_epi64(base, _mm512_set1_epi64(16)), pick_hi));
  }
}

template <class T>
void max_pool_typed(const Pool2dGeom& g, const T* x, T* y, int64_t* idx) {
  if constexpr (std::is_same_v<T, float>) {
    if (is_full_2x2(g) && gemm_isa() == GemmIsa::avx512) {
      for_each_pool_plane(g, [&](int64_t p) {
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const float* r0 = x + p * g.h * g.w + 2 * oy * g.w;
          const int64_t o = (p * g.oh + oy) * g.ow;
          max_pool_2x2_row_avx512(r0, r0 + g.w, int32_t(g.w), g.ow, 2 * oy * g.w, y + o, idx + o);
        }
      });
      return;
    }
  }
  // The windows' row and column ranges, the same for every plane.
  std::vector<Window> rows(size_t(g.oh)), cols(size_t(g.ow));
  for (int64_t oy = 0; oy < g.oh; ++oy) rows[size_t(oy)] = window(g, oy, 0);
  for (int64_t ox = 0; ox < g.ow; ++ox) cols[size_t(ox)] = window(g, 0, ox);
  for_each_pool_plane(g, [&](int64_t p) {
    const T* xp = x + p * g.h * g.w;
    T* yp = y + p * g.oh * g.ow;
    int64_t* ip = idx + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      const int64_t h0 = rows[size_t(oy)].h0, h1 = rows[size_t(oy)].h1;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const int64_t w0 = cols[size_t(ox)].w0, w1 = cols[size_t(ox)].w1;
        T best = -std::numeric_limits<T>::infinity();
        int64_t at = h0 * g.w + w0;
        for (int64_t iy = h0; iy < h1; ++iy)
          for (int64_t ix = w0; ix < w1; ++ix) {
            const T v = xp[iy * g.w + ix];
            if (v > best || v != v) {  // NaN wins
              best = v;
              at = iy * g.w + ix;
            }
          }
        yp[oy * g.ow + ox] = best;
        ip[oy * g.ow + ox] = at;
      }
    }
  });
}

template <class T>
void max_pool_backward_typed(const Pool2dGeom& g, const T* gy, const int64_t* idx, T* gx) {
  for_each_pool_plane(g, [&](int64_t p) {
    const T* gp = gy + p * g.oh * g.ow;
    const int64_t* ip = idx + p * g.oh * g.ow;
    T* xp = gx + p * g.h * g.w;
    for (int64_t o = 0; o < g.oh * g.ow; ++o) xp[ip[o]] += gp[o];
  });
}

template <class T>
void avg_pool_typed(const Pool2dGeom& g, const T* x, T* y) {
  for_each_pool_plane(g, [&](int64_t p) {
    const T* xp = x + p * g.h * g.w;
    T* yp = y + p * g.oh * g.ow;
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        Window win = window(g, oy, ox);
        T s = T(0);
        for (int64_t iy = win.h0; iy < win.h1; ++iy)
          for (int64_t ix = win.w0; ix < win.w1; ++ix) s += xp[iy * g.w + ix];
        yp[oy * g.ow + ox] = win.divisor > 0 ? s / T(win.divisor) : T(0);
      }
  });
}

template <class T>
void avg_pool_backward_typed(const Pool2dGeom& g, const T* gy, T* gx) {
  for_each_pool_plane(g, [&](int64_t p) {
    const T* gp = gy + p * g.oh * g.ow;
    T* xp = gx + p * g.h * g.w;
    for (int64_t i = 0; i < g.h * g.w; ++i) xp[i] = T(0);
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        Window win = window(g, oy, ox);
        if (win.divisor <= 0) continue;
        T share = gp[oy * g.ow + ox] / T(win.divisor);
        for (int64_t iy = win.h0; iy < win.h1; ++iy)
          for (int64_t ix = win.w0; ix < win.w1; ++ix) xp[iy * g.w + ix] += share;
      }
  });
}

void max_pool2d(DType t, const Pool2dGeom& g, const void* x, void* y, int64_t* idx) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("max_pool2d", t, "f32 or f64"),
                     max_pool_typed(g, static_cast<const T*>(x), static_cast<T*>(y), idx));
}

void max_pool2d_backward(DType t, const Pool2dGeom& g, const void* gy, const int64_t* idx, void* gx) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("max_pool2d_backward", t, "f32 or f64"),
                     max_pool_backward_typed(g, static_cast<const T*>(gy), idx, static_cast<T*>(gx)));
}

void avg_pool2d(DType t, const Pool2dGeom& g, const void* x, void* y) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("avg_pool2d", t, "f32 or f64"),
                     avg_pool_typed(g, static_cast<const T*>(x), static_cast<T*>(y)));
}

void avg_pool2d_backward(DType t, const Pool2dGeom& g, const void* gy, void* gx) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("avg_pool2d_backward", t, "f32 or f64"),
                     avg_pool_backward_typed(g, static_cast<const T*>(gy), static_cast<T*>(gx)));
}

}  // namespace

MOX_REGISTER_KERNEL(im2col_stub, CPU, im2col);
MOX_REGISTER_KERNEL(col2im_stub, CPU, col2im);
MOX_REGISTER_KERNEL(depthwise_conv2d_stub, CPU, depthwise_conv2d);
MOX_REGISTER_KERNEL(depthwise_backward_input_stub, CPU, depthwise_backward_input);
MOX_REGISTER_KERNEL(depthwise_backward_weight_stub, CPU, depthwise_backward_weight);
MOX_REGISTER_KERNEL(max_pool2d_stub, CPU, max_pool2d);
MOX_REGISTER_KERNEL(max_pool2d_backward_stub, CPU, max_pool2d_backward);
MOX_REGISTER_KERNEL(avg_pool2d_stub, CPU, avg_pool2d);
MOX_REGISTER_KERNEL(avg_pool2d_backward_stub, CPU, avg_pool2d_backward);

}  // namespace mox::cpu
