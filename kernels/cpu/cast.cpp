// Vectorized f32 <-> f16 / bf16 conversions (see cast.h). Each function is compiled for the
// instruction set it needs (target attributes) and chosen at run time, so the library itself
// runs on any x86-64. Versions: f16 through F16C, 8 values a step (vcvtps2ph with round to
// nearest even, vcvtph2ps); bf16 -> f32 as a 16-bit shift, 16 values a step (AVX-512F);
// f32 -> bf16 through AVX512_BF16's vcvtneps2bf16, 16 values a step. Where the hardware differs
// from the scalar conversions (NaN payloads and quieting; vcvtneps2bf16 flushing subnormal
// inputs to zero), the step falls back to the scalar code, so results match bit for bit.
// Measured by bench_elementwise (cast cases).
#include "kernels/cpu/cast.h"

#include <immintrin.h>

#include "kernels/common/dtype.h"

namespace mox::cpu {
namespace {

__attribute__((target("f16c,avx"))) void f32_to_f16_f16c(uint16_t* out, const float* in,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(in + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q))) {
      for (int64_t j = i; j < i + 8; ++j) out[j] = Half::from_float(in[j]);
      continue;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) out[i] = Half::from_float(in[i]);
}

__attribute__((target("f16c,avx"))) void f16_to_f32_f16c(float* out, const uint16_t* in,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 y = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    if (_mm256_movemask_ps(_mm256_cmp_ps(y, y, _CMP_UNORD_Q))) {
      for (int64_t j = i; j < i + 8; ++j) out[j] = Half::to_float(in[j]);
      continue;
    }
    _mm256_storeu_ps(out + i, y);
  }
  for (; i < n; ++i) out[i] = Half::to_float(in[i]);
}

__attribute__((target("avx512f"))) void bf16_to_f32_avx512(float* out, const uint16_t* in,
                                                            int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // The zero-masked forms: the plain ones trip g++ 12's -Wmaybe-uninitialized (GCC bug 105593).
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    __m512i w = _mm512_maskz_cvtepu16_epi32(0xffff, h);
    _mm512_storeu_si512(out + i, _mm512_maskz_slli_epi32(0xffff, w, 16));
  }
  for (; i < n; ++i) out[i] = BFloat16::to_float(in[i]);
}

__attribute__((target("avx512f,avx512bf16"))) void f32_to_bf16_avx512(uint16_t* out,
                                                                       const float* in,
                                                                       int64_t n) {
  const __m512i exponent = _mm512_set1_epi32(0x7f800000), mantissa = _mm512_set1_epi32(0x007fffff);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 x = _mm512_loadu_ps(in + i);
    __m512i bits = _mm512_castps_si512(x);
    __mmask16 subnormal =
        _mm512_testn_epi32_mask(bits, exponent) & _mm512_test_epi32_mask(bits, mantissa);
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    if (subnormal | nan) {
      for (int64_t j = i; j < i + 16; ++j) out[j] = BFloat16::from_float(in[j]);
      continue;
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), (__m256i)_mm512_cvtneps_pbh(x));
  }
  for (; i < n; ++i) out[i] = BFloat16::from_float(in[i]);
}

}  // namespace

bool fast_cast_available(FastCast c) {
  static const bool f16c = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  static const bool avx512bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
  switch (c) {
    case FastCast::f32_to_f16:
    case FastCast::f16_to_f32: return f16c;
    case FastCast::bf16_to_f32: return avx512;
    case FastCast::f32_to_bf16: return avx512bf16;
  }
  return false;
}

void fast_cast(FastCast c, void* out, const void* in, int64_t n) {
  switch (c) {
    case FastCast::f32_to_f16:
      f32_to_f16_f16c(static_cast<uint16_t*>(out), static_cast<const float*>(in), n);
      break;
    case FastCast::f16_to_f32:
      f16_to_f32_f16c(static_cast<float*>(out), static_cast<const uint16_t*>(in), n);
      break;
    case FastCast::f32_to_bf16:
      f32_to_bf16_avx512(static_cast<uint16_t*>(out), static_cast<const float*>(in), n);
      break;
    case FastCast::bf16_to_f32:
      bf16_to_f32_avx512(static_cast<float*>(out), static_cast<const uint16_t*>(in), n);
      break;
  }
}

}  // namespace mox::cpu
