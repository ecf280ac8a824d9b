// A 16 x 16 f32 transpose in AVX-512 registers, shared by the GEMM's packing and the Winograd
// convolution's change of layout.
#pragma once
#include <immintrin.h>

namespace mox::cpu {

// Per 128-bit lane, a's and b's first (or, when hi, second) 64-bit elements, a's first.
[[gnu::target("avx512f")]] inline __m512 interleave_pairs(__m512 a, __m512 b, bool hi) {
  __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
  return _mm512_castpd_ps(hi ? _mm512_unpackhi_pd(x, y) : _mm512_unpacklo_pd(x, y));
}

// r[j][i] = old r[i][j] for a 16 x 16 block: 32-bit, then 64-bit interleaves, then 128-bit lane
// shuffles. (GCC 12 warns about the intrinsics' own undefined pass-through operand.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
[[gnu::target("avx512f"), gnu::always_inline]] inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];  // unrolled, so all of it stays in registers
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // u[4m + q], lane L: rows 4m..4m+3 of column 4L + q.
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    u[4 * m + 0] = interleave_pairs(t[4 * m], t[4 * m + 2], false);
    u[4 * m + 1] = interleave_pairs(t[4 * m], t[4 * m + 2], true);
    u[4 * m + 2] = interleave_pairs(t[4 * m + 1], t[4 * m + 3], false);
    u[4 * m + 3] = interleave_pairs(t[4 * m + 1], t[4 * m + 3], true);
  }
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    __m512 va = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x44), vb = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xEE);
    __m512 wa = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x44), wb = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xEE);
    r[q] = _mm512_shuffle_f32x4(va, wa, 0x88);
    r[4 + q] = _mm512_shuffle_f32x4(va, wa, 0xDD);
    r[8 + q] = _mm512_shuffle_f32x4(vb, wb, 0x88);
    r[12 + q] = _mm512_shuffle_f32x4(vb, wb, 0xDD);
  }
}
#pragma GCC diagnostic pop

}  // namespace mox::cpu
