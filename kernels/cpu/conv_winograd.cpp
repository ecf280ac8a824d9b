// Winograd F(4x4, 3x3). Each 4x4 block (tile) of a 3x3 stride-1 convolution's output is
//   Y = A^T [ sum over channels c of (G g_c G^T) . (B^T d_c B) ] A
// with d_c the tile's 6x6 input window in channel c, g_c the 3x3 kernel and . the elementwise
// product: 36 products per tile and channel pair where the direct convolution has 144. Per point
// of the 6x6 transform the sum over channels is a GEMM (tiles x channels x output channels).
//
// Layout: 16 channels share each vector, one per lane. A task takes a block of tile rows of one
// image: it lays the input rows they read out as [channel / 16][row][col][16 channels] (padding
// and missing channels as zeros; a 16 x 16 transpose in registers per 16 columns), so the
// transforms are plain vector arithmetic; the GEMMs broadcast transformed inputs against
// vectors of 16 output channels; the output transform's 16 vectors of 16 output channels are
// transposed back into 16 channels' 4x4 tiles and stored into NCHW. Everything a task touches
// stays within one image and the thread's scratch.
#include "kernels/cpu/conv_winograd.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/gemm_config.h"
#include "kernels/cpu/transpose16.h"
#include "kernels/linalg.h"

namespace mox::cpu {
namespace {

constexpr int kLanes = 16;        // channels per vector
constexpr int kPoints = 36;       // points of the 6x6 transform
constexpr int kAcc = 24;          // accumulators of the GEMM's register tile (tiles x vectors)
constexpr int64_t kBlockTiles = 32;  // tiles per task, about: whole tile rows

// G, the kernel transform.
constexpr double kG[6][3] = {{1.0 / 4, 0, 0},          {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                             {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

// Tiles, channel vectors, blocks and scratch extents.
struct Plan {
  int64_t th, tw, cv, kv, cp, kp;  // tile rows and columns; channel and output-channel vectors, padded counts
  int64_t block_rows, blocks;      // tile rows per task, tasks per image
  int64_t win_rows, win_cols;      // a block's laid-out input rows and columns
  int64_t tiles_cap;               // a block's tiles rounded up to whole register tiles
  Plan(const Conv2dGeom& g, int64_t out_c)
      : th((g.oh + 3) / 4), tw((g.ow + 3) / 4), cv((g.c + kLanes - 1) / kLanes), kv((out_c + kLanes - 1) / kLanes),
        cp(cv * kLanes), kp(kv * kLanes) {
    const int64_t want = std::clamp<int64_t>(kBlockTiles / tw, 1, th);
    blocks = (th + want - 1) / want;
    block_rows = (th + blocks - 1) / blocks;
    win_rows = 4 * block_rows + 2;
    win_cols = 4 * tw + 2;
    tiles_cap = (block_rows * tw + kAcc - 1) / kAcc * kAcc;
  }
  int64_t rows_of(int64_t blk) const { return std::min(block_rows, th - blk * block_rows); }  // block blk's tile rows
};

// o[k * os] = (B^T d)[k] for the six vectors d[i * ds].
template <int ds, int os>
[[gnu::target("avx512f"), gnu::always_inline]] inline void apply_bt(const __m512* d, __m512* o) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), five = _mm512_set1_ps(5);
  const __m512 d0 = d[0], d1 = d[ds], d2 = d[2 * ds], d3 = d[3 * ds], d4 = d[4 * ds], d5 = d[5 * ds];
  const __m512 d4m2 = _mm512_sub_ps(d4, d2);
  o[0] = _mm512_fmadd_ps(four, d0, _mm512_fnmadd_ps(five, d2, d4));
  o[os] = _mm512_fnmadd_ps(four, _mm512_add_ps(d1, d2), _mm512_add_ps(d3, d4));
  o[2 * os] = _mm512_fmadd_ps(four, _mm512_sub_ps(d1, d2), _mm512_sub_ps(d4, d3));
  o[3 * os] = _mm512_fmadd_ps(two, _mm512_sub_ps(d3, d1), d4m2);
  o[4 * os] = _mm512_fmadd_ps(two, _mm512_sub_ps(d1, d3), d4m2);
  o[5 * os] = _mm512_fmadd_ps(four, d1, _mm512_fnmadd_ps(five, d3, d5));
}

// o[k * os] = (A^T m)[k] for the six vectors m[i * ms], k < 4.
template <int ms, int os>
[[gnu::target("avx512f"), gnu::always_inline]] inline void apply_at(const __m512* m, __m512* o) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
  const __m512 s12 = _mm512_add_ps(m[ms], m[2 * ms]), d12 = _mm512_sub_ps(m[ms], m[2 * ms]);
  const __m512 s34 = _mm512_add_ps(m[3 * ms], m[4 * ms]), d34 = _mm512_sub_ps(m[3 * ms], m[4 * ms]);
  o[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
  o[os] = _mm512_fmadd_ps(two, d34, d12);
  o[2 * os] = _mm512_fmadd_ps(four, s34, s12);
  o[3 * os] = _mm512_fmadd_ps(eight, d34, _mm512_add_ps(d12, m[5 * ms]));
}

// o[k * os] = (A y)[k], k < 6, for the four vectors y[i * ys]: the output gradient's transform
// (A, the transpose of A^T).
template <int ys, int os>
[[gnu::target("avx512f"), gnu::always_inline]] inline void apply_a(const __m512* y, __m512* o) {
  const __m512 two = _mm512_set1_ps(2), four = _mm512_set1_ps(4), eight = _mm512_set1_ps(8);
  const __m512 s02 = _mm512_add_ps(y[0], y[2 * ys]), s13 = _mm512_add_ps(y[ys], y[3 * ys]);
  const __m512 lo = _mm512_fmadd_ps(four, y[2 * ys], y[0]), hi = _mm512_fmadd_ps(eight, y[3 * ys], _mm512_mul_ps(two, y[ys]));
  o[0] = y[0];
  o[os] = _mm512_add_ps(s02, s13);
  o[2 * os] = _mm512_sub_ps(s02, s13);
  o[3 * os] = _mm512_add_ps(lo, hi);
  o[4 * os] = _mm512_sub_ps(lo, hi);
  o[5 * os] = y[3 * ys];
}

// The transformed kernels G g G^T of output channels [k0, k0 + 16) and channel c into u, laid out
// [point][c][kp]; zeros for the padding channels.
void transform_weights(const Conv2dGeom& g, const Plan& p, const float* w, int64_t out_c, int64_t c, int64_t k0,
                       float* u) {
  for (int64_t k = k0; k < k0 + kLanes; ++k) {
    double t[6][3] = {}, r[6][6] = {};
    if (k < out_c && c < g.c) {
      const float* f = w + (k * g.c + c) * 9;
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 3; ++j)
          for (int a = 0; a < 3; ++a) t[i][j] += kG[i][a] * f[a * 3 + j];
      for (int i = 0; i < 6; ++i)
        for (int j = 0; j < 6; ++j)
          for (int b = 0; b < 3; ++b) r[i][j] += t[i][b] * kG[j][b];
    }
    for (int q = 0; q < kPoints; ++q) u[(q * p.cp + c) * p.kp + k] = float(r[q / 6][q % 6]);
  }
}

// One image's planes as lay_out reads them: channels planes of h x w, padded by ph and pw.
struct Planes {
  const float* data;
  int64_t channels, h, w, ph, pw;
};

// Padded rows [r0, r0 + rows) and columns [0, cols) of every plane into dst [channel / 16][row]
// [col][16 channels], rows_cap rows per 16 channels: zeros in the padding and for the channels
// past the last.
[[gnu::target("avx512f")]] void lay_out(const Planes& x, int64_t r0, int64_t rows, int64_t cols, int64_t rows_cap,
                                        float* dst) {
  for (int64_t cb = 0; cb * kLanes < x.channels; ++cb) {
    const int64_t channels = std::min<int64_t>(kLanes, x.channels - cb * kLanes);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t iy = r0 + r - x.ph;
      float* row = dst + (cb * rows_cap + r) * cols * kLanes;
      if (iy < 0 || iy >= x.h) {
        std::memset(row, 0, size_t(cols * kLanes) * sizeof(float));
        continue;
      }
      for (int64_t col0 = 0; col0 < cols; col0 += 16) {
        const int64_t lo = std::clamp<int64_t>(x.pw - col0, 0, 16), hi = std::clamp<int64_t>(x.pw + x.w - col0, 0, 16);
        const __mmask16 live = lo >= hi ? 0 : __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
        const float* src = x.data + (cb * kLanes * x.h + iy) * x.w + col0 - x.pw;
        __m512 v[16];
#pragma GCC unroll 16
        for (int l = 0; l < 16; ++l)  // masked loads: the lanes left of the row's start are never read
          v[l] = _mm512_maskz_loadu_ps(l < channels ? live : 0, src + l * x.h * x.w);
        transpose16(v);
#pragma GCC unroll 16
        for (int q = 0; q < 16; ++q)
          if (col0 + q < cols) _mm512_store_ps(row + (col0 + q) * kLanes, v[q]);
      }
    }
  }
}

// B^T d B of a block's tiles (tile rows [0, rows) of xr, the block's laid-out input) into
// v [point][tiles_cap][cp]; the tiles past them up to a whole register tile as zeros.
[[gnu::target("avx512f")]] void transform_inputs(const Plan& p, int64_t rows, const float* xr, float* v) {
  const int64_t tiles = rows * p.tw;
  for (int64_t cb = 0; cb < p.cv; ++cb)
    for (int64_t t = 0; t < tiles; ++t) {
      const float* base = xr + ((cb * p.win_rows + 4 * (t / p.tw)) * p.win_cols + 4 * (t % p.tw)) * kLanes;
      __m512 e[kPoints];
      for (int j = 0; j < 6; ++j) {
        __m512 d[6];
        for (int i = 0; i < 6; ++i) d[i] = _mm512_load_ps(base + (i * p.win_cols + j) * kLanes);
        apply_bt<1, 6>(d, e + j);
      }
      for (int k = 0; k < 6; ++k) {
        __m512 o[6];
        apply_bt<1, 1>(e + 6 * k, o);
        for (int j = 0; j < 6; ++j) _mm512_store_ps(v + ((6 * k + j) * p.tiles_cap + t) * p.cp + cb * kLanes, o[j]);
      }
    }
  const int64_t end = (tiles + kAcc - 1) / kAcc * kAcc;
  for (int q = 0; q < kPoints; ++q)
    std::fill(v + (q * p.tiles_cap + tiles) * p.cp, v + (q * p.tiles_cap + end) * p.cp, 0.0f);
}

// The two uses of micro_points: the forward's products (rows are tiles, steps channels, the
// result stored) and the weight gradient's sums (rows are output channels, steps tiles, the
// result added).
enum class PointGemm { forward, gradient };

// One register tile of a point's GEMM, kR rows r x kV vectors j of 16 lanes:
//   out[r * o_rs + j * o_vs + l] = (or, for the gradient, +=) sum over s < steps of
//   A(r, s) * b[s * b_ss + 16 j + l],
// A(r, s) = a[r * a_stride + s] for the forward, a[s * a_stride + r] for the gradient.
template <PointGemm kMode, int kR, int kV>
[[gnu::target("avx512f")]] void micro_points(int64_t steps, const float* a, int64_t a_stride, const float* b,
                                             int64_t b_ss, float* out, int64_t o_rs, int64_t o_vs) {
  constexpr bool kForward = kMode == PointGemm::forward;
  __m512 acc[kR][kV] = {};
  for (int64_t s = 0; s < steps; ++s) {
    __m512 bv[kV];
#pragma GCC unroll 4
    for (int j = 0; j < kV; ++j) bv[j] = _mm512_load_ps(b + s * b_ss + j * kLanes);
#pragma GCC unroll 24
    for (int r = 0; r < kR; ++r) {
      const __m512 av = _mm512_set1_ps(kForward ? a[r * a_stride + s] : a[s * a_stride + r]);
#pragma GCC unroll 4
      for (int j = 0; j < kV; ++j) acc[r][j] = _mm512_fmadd_ps(av, bv[j], acc[r][j]);
    }
  }
#pragma GCC unroll 24
  for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < kV; ++j) {
      float* d = out + r * o_rs + j * o_vs;
      _mm512_store_ps(d, kForward ? acc[r][j] : _mm512_add_ps(_mm512_load_ps(d), acc[r][j]));
    }
}

// All 36 GEMMs of a block of tiles: m [tiles_cap][kv][point][16] (a tile's points together for
// the output transform) from v [point][tiles_cap][cp] and u [point][cp][kp].
void multiply_points(const Plan& p, int64_t tiles, const float* v, const float* u, float* m) {
  const int64_t m_rs = p.kv * kPoints * kLanes, m_vs = kPoints * kLanes;
  for (int q = 0; q < kPoints; ++q) {
    const float* vq = v + q * p.tiles_cap * p.cp;
    const float* uq = u + q * p.cp * p.kp;
    auto run = [&](auto micro, int64_t rows, int64_t j) {
      for (int64_t t = 0; t < tiles; t += rows)
        micro(p.cp, vq + t * p.cp, p.cp, uq + j * kLanes, p.kp, m + t * m_rs + j * m_vs + q * kLanes, m_rs, m_vs);
    };
    int64_t j = 0;
    for (; j + 4 <= p.kv; j += 4) run(micro_points<PointGemm::forward, 6, 4>, 6, j);
    switch (p.kv - j) {  // the register tile keeps kAcc accumulators
      case 3: run(micro_points<PointGemm::forward, 8, 3>, 8, j); break;
      case 2: run(micro_points<PointGemm::forward, 12, 2>, 12, j); break;
      case 1: run(micro_points<PointGemm::forward, 24, 1>, 24, j); break;
    }
  }
}

// A^T M A (+ bias, relu) of a block's tiles (tile rows from ty0, rows of them; m as
// multiply_points leaves it), stored into image yb's planes.
[[gnu::target("avx512f")]] void transform_outputs(const Conv2dGeom& g, const Plan& p, int64_t out_c, int64_t ty0,
                                                  int64_t rows, const float* m, const float* bias, bool relu,
                                                  float* yb) {
  for (int64_t kb = 0; kb < p.kv; ++kb) {
    const int64_t channels = std::min<int64_t>(kLanes, out_c - kb * kLanes);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(__mmask16((1u << channels) - 1), bias + kb * kLanes)
                          : _mm512_setzero_ps();
    for (int64_t ty = 0; ty < rows; ++ty)
      for (int64_t tx0 = 0; tx0 < p.tw; tx0 += 4) {  // four tiles side by side: 16 output columns
        const int64_t oy = 4 * (ty0 + ty), ox = 4 * tx0, tiles = std::min<int64_t>(4, p.tw - tx0);
        __m512 o[4][16];  // o[t][4u + v]: row u, column v of tile t; lanes: 16 output channels
        for (int64_t t = 0; t < 4; ++t) {
          if (t >= tiles) {
            for (int q = 0; q < 16; ++q) o[t][q] = _mm512_setzero_ps();
            continue;
          }
          const float* mt = m + ((ty * p.tw + tx0 + t) * p.kv + kb) * kPoints * kLanes;
          __m512 s[24];
          for (int j = 0; j < 6; ++j) {
            __m512 col[6];
            for (int i = 0; i < 6; ++i) col[i] = _mm512_load_ps(mt + (6 * i + j) * kLanes);
            apply_at<1, 6>(col, s + j);
          }
          for (int u = 0; u < 4; ++u) apply_at<1, 1>(s + 6 * u, o[t] + 4 * u);
          for (int q = 0; q < 16; ++q) {
            o[t][q] = _mm512_add_ps(o[t][q], b);
            if (relu) o[t][q] = _mm512_maskz_max_ps(0xFFFF, o[t][q], _mm512_setzero_ps());  // NaN -> 0, as the relu op
          }
        }
        // Output row u of the four tiles, 16 columns, is a 16 x 16 transpose away per channel.
        const __mmask16 cols = __mmask16((1u << std::min<int64_t>(16, g.ow - ox)) - 1);
        for (int64_t u = 0; u < std::min<int64_t>(4, g.oh - oy); ++u) {
          __m512 r[16];
          for (int j = 0; j < 16; ++j) r[j] = o[j / 4][4 * u + j % 4];
          transpose16(r);
          for (int64_t l = 0; l < channels; ++l)
            _mm512_mask_storeu_ps(yb + ((kb * kLanes + l) * g.oh + oy + u) * g.ow + ox, cols, r[l]);
        }
      }
  }
}

// A dY A^T of a block's tiles (tile rows [0, rows) of gr, the block's laid-out output gradient,
// 4 * block_rows rows of 4 * tw columns per 16 output channels) into z [point][tiles_cap][kp].
[[gnu::target("avx512f")]] void transform_grads(const Plan& p, int64_t rows, const float* gr, float* z) {
  const int64_t cols = 4 * p.tw;
  for (int64_t kb = 0; kb < p.kv; ++kb)
    for (int64_t t = 0; t < rows * p.tw; ++t) {
      const float* base = gr + ((kb * 4 * p.block_rows + 4 * (t / p.tw)) * cols + 4 * (t % p.tw)) * kLanes;
      __m512 e[24];
      for (int j = 0; j < 4; ++j) {
        __m512 y[4];
        for (int i = 0; i < 4; ++i) y[i] = _mm512_load_ps(base + (i * cols + j) * kLanes);
        apply_a<1, 4>(y, e + j);
      }
      for (int k = 0; k < 6; ++k) {
        __m512 o[6];
        apply_a<1, 1>(e + 4 * k, o);
        for (int j = 0; j < 6; ++j) _mm512_store_ps(z + ((6 * k + j) * p.tiles_cap + t) * p.kp + kb * kLanes, o[j]);
      }
    }
}

// du [point][kp][cp] += the 36 point products of a block's tiles: z [point][tiles_cap][kp] with
// v [point][tiles_cap][cp], summed over its tiles.
void accumulate_points(const Plan& p, int64_t tiles, const float* z, const float* v, float* du) {
  for (int q = 0; q < kPoints; ++q) {
    const float* zq = z + q * p.tiles_cap * p.kp;
    const float* vq = v + q * p.tiles_cap * p.cp;
    float* dq = du + q * p.kp * p.cp;
    for (int64_t k0 = 0; k0 < p.kp; k0 += 8)  // 8 output channels x up to 3 vectors of channels
      for (int64_t j = 0; j < p.cv; j += 3) {
        auto run = [&](auto micro) {
          micro(tiles, zq + k0, p.kp, vq + j * kLanes, p.cp, dq + k0 * p.cp + j * kLanes, p.cp, kLanes);
        };
        switch (std::min<int64_t>(3, p.cv - j)) {
          case 3: run(micro_points<PointGemm::gradient, 8, 3>); break;
          case 2: run(micro_points<PointGemm::gradient, 8, 2>); break;
          default: run(micro_points<PointGemm::gradient, 8, 1>);
        }
      }
  }
}

// gw[k][c] = G^T du[.][k][c] G, the 3x3 weight gradient from its transformed sums.
void finish_weights(const Conv2dGeom& g, const Plan& p, int64_t out_c, const float* du, float* gw) {
  for (int64_t k = 0; k < out_c; ++k)
    for (int64_t c = 0; c < g.c; ++c) {
      double t[3][6] = {};
      for (int i = 0; i < 3; ++i)
        for (int b = 0; b < 6; ++b)
          for (int a = 0; a < 6; ++a) t[i][b] += kG[a][i] * du[((a * 6 + b) * p.kp + k) * p.cp + c];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          double sum = 0;
          for (int b = 0; b < 6; ++b) sum += t[i][b] * kG[b][j];
          gw[((k * g.c + c) * 3 + i) * 3 + j] = float(sum);
        }
    }
}

thread_local Scratch weight_scratch, layout_scratch, point_scratch, product_scratch, grad_scratch, sum_scratch;

// B^T d B of the tiles of block blk of image b into this thread's [point][tiles_cap][cp] scratch,
// which it returns.
const float* transform_block_inputs(const Conv2dGeom& g, const Plan& p, const float* x, int64_t b, int64_t blk) {
  float* xr = layout_scratch.get<float>(size_t(p.cv * p.win_rows * p.win_cols * kLanes));
  float* v = point_scratch.get<float>(size_t(kPoints * p.tiles_cap * p.cp));
  const int64_t rows = p.rows_of(blk);
  lay_out({x + b * g.c * g.h * g.w, g.c, g.h, g.w, g.ph, g.pw}, 4 * blk * p.block_rows, 4 * rows + 2, p.win_cols,
          p.win_rows, xr);
  transform_inputs(p, rows, xr, v);
  return v;
}

}  // namespace

bool conv_winograd_applies(const Conv2dGeom& g, int64_t groups, int64_t out_c) {
  return gemm_isa() == GemmIsa::avx512 && groups == 1 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 &&
         g.dh == 1 && g.dw == 1 && g.c >= 16 && out_c >= 16 && g.c * out_c <= 64 * 64 && g.oh > 0 && g.ow > 0;
}

void conv_winograd_f32(const Conv2dGeom& g, int64_t out_c, const float* x, const float* w, const float* bias,
                       bool relu, float* y) {
  const Plan p(g, out_c);
  float* u = weight_scratch.get<float>(size_t(kPoints * p.cp * p.kp));
  const double flops = 2.0 * double(g.n) * double(out_c) * double(g.c) * 9.0 * double(g.oh * g.ow);
  const int nt = omp_in_parallel() || flops < kConvParallelFlops ? 1 : omp_get_max_threads();
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
#pragma omp for schedule(static)
    for (int64_t task = 0; task < p.cp * p.kv; ++task)
      transform_weights(g, p, w, out_c, task / p.kv, task % p.kv * kLanes, u);
    float* m = product_scratch.get<float>(size_t(kPoints * p.tiles_cap * p.kp));
#pragma omp for schedule(static)
    for (int64_t task = 0; task < g.n * p.blocks; ++task) {
      const int64_t b = task / p.blocks, blk = task % p.blocks, rows = p.rows_of(blk);
      multiply_points(p, rows * p.tw, transform_block_inputs(g, p, x, b, blk), u, m);
      transform_outputs(g, p, out_c, blk * p.block_rows, rows, m, bias, relu, y + b * out_c * g.oh * g.ow);
    }
  }
}

void conv_winograd_weight_f32(const Conv2dGeom& g, int64_t out_c, const float* gy, const float* x, float* gw,
                              int64_t b0, int64_t b1) {
  const Plan p(g, out_c);
  float* gr = grad_scratch.get<float>(size_t(p.kv * 4 * p.block_rows * 4 * p.tw * kLanes));
  float* z = product_scratch.get<float>(size_t(kPoints * p.tiles_cap * p.kp));
  float* du = sum_scratch.get<float>(size_t(kPoints * p.kp * p.cp));
  std::fill(du, du + kPoints * p.kp * p.cp, 0.0f);
  for (int64_t b = b0; b < b1; ++b)
    for (int64_t blk = 0; blk < p.blocks; ++blk) {
      const int64_t rows = p.rows_of(blk);
      const float* v = transform_block_inputs(g, p, x, b, blk);
      lay_out({gy + b * out_c * g.oh * g.ow, out_c, g.oh, g.ow, 0, 0}, 4 * blk * p.block_rows, 4 * rows, 4 * p.tw,
              4 * p.block_rows, gr);
      transform_grads(p, rows, gr, z);
      accumulate_points(p, rows * p.tw, z, v, du);
    }
  finish_weights(g, p, out_c, du, gw);
}

}  // namespace mox::cpu
