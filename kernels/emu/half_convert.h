// Conversion intrinsics of fp16 and bf16: float/double/integer <-> 16-bit with CUDA's rounding
// suffixes (_rn nearest even, _rz toward zero, _rd down, _ru up), bit reinterpretation, and
// building and splitting the pair types.
#pragma once

#include <climits>
#include <limits>

#include "kernels/emu/half.h"
#include "kernels/emu/types.h"

namespace mox::emu::detail {

inline constexpr auto half_round = &round16<float_to_half_bits, half_bits_to_float>;
inline constexpr auto bf16_round = &round16<float_to_bf16_bits, bf16_bits_to_float>;

// Rounds f to an integer with mode n/z/d/u and converts it, saturating like the hardware
// (NaN becomes 0 for integers).
template <class I>
I to_int(float f, char mode) {
  if (f != f) return 0;
  double r = mode == 'n' ? std::nearbyint(double(f))
           : mode == 'z' ? std::trunc(double(f))
           : mode == 'd' ? std::floor(double(f))
                         : std::ceil(double(f));
  if (r <= double(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
  if (r >= double(std::numeric_limits<I>::max())) return std::numeric_limits<I>::max();
  return I(r);
}

}  // namespace mox::emu::detail

// ---- fp16

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline __half __float2half_rz(float f) { return __half::from_bits(mox::emu::detail::half_round(f, 'z')); }
inline __half __float2half_rd(float f) { return __half::from_bits(mox::emu::detail::half_round(f, 'd')); }
inline __half __float2half_ru(float f) { return __half::from_bits(mox::emu::detail::half_round(f, 'u')); }
inline float __half2float(__half h) { return float(h); }
inline __half __double2half(double d) { return __half(d); }
inline __half __int2half_rn(int v) { return __half(v); }
inline __half __uint2half_rn(unsigned v) { return __half(v); }
inline __half __short2half_rn(short v) { return __half(v); }
inline __half __ushort2half_rn(unsigned short v) { return __half(v); }
inline __half __ll2half_rn(long long v) { return __half(v); }
inline __half __ull2half_rn(unsigned long long v) { return __half(v); }
inline int __half2int_rn(__half h) { return mox::emu::detail::to_int<int>(float(h), 'n'); }
inline int __half2int_rz(__half h) { return mox::emu::detail::to_int<int>(float(h), 'z'); }
inline int __half2int_rd(__half h) { return mox::emu::detail::to_int<int>(float(h), 'd'); }
inline int __half2int_ru(__half h) { return mox::emu::detail::to_int<int>(float(h), 'u'); }
inline unsigned __half2uint_rn(__half h) { return mox::emu::detail::to_int<unsigned>(float(h), 'n'); }
inline unsigned __half2uint_rz(__half h) { return mox::emu::detail::to_int<unsigned>(float(h), 'z'); }
inline short __half2short_rz(__half h) { return mox::emu::detail::to_int<short>(float(h), 'z'); }
inline long long __half2ll_rz(__half h) { return mox::emu::detail::to_int<long long>(float(h), 'z'); }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline short __half_as_short(__half h) { return short(h.__x); }
inline __half __ushort_as_half(unsigned short b) { return __half::from_bits(b); }
inline __half __short_as_half(short b) { return __half::from_bits((unsigned short)b); }

inline __half2 __float2half2_rn(float f) { return __half2(__half(f), __half(f)); }
inline __half2 __floats2half2_rn(float a, float b) { return __half2(__half(a), __half(b)); }
inline __half2 __float22half2_rn(float2 v) { return __half2(__half(v.x), __half(v.y)); }
inline float2 __half22float2(__half2 h) { return make_float2(float(h.x), float(h.y)); }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline float __low2float(__half2 h) { return float(h.x); }
inline float __high2float(__half2 h) { return float(h.y); }
inline __half2 __halves2half2(__half a, __half b) { return __half2(a, b); }
inline __half2 __half2half2(__half a) { return __half2(a, a); }
inline __half2 __lows2half2(__half2 a, __half2 b) { return __half2(a.x, b.x); }
inline __half2 __highs2half2(__half2 a, __half2 b) { return __half2(a.y, b.y); }
inline __half2 __low2half2(__half2 a) { return __half2(a.x, a.x); }
inline __half2 __high2half2(__half2 a) { return __half2(a.y, a.y); }
inline __half2 __lowhigh2highlow(__half2 a) { return __half2(a.y, a.x); }
inline __half2 make_half2(__half a, __half b) { return __half2(a, b); }

// ---- bf16

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {
  return __nv_bfloat16::from_bits(mox::emu::detail::bf16_round(f, 'z'));
}
inline __nv_bfloat16 __float2bfloat16_rd(float f) {
  return __nv_bfloat16::from_bits(mox::emu::detail::bf16_round(f, 'd'));
}
inline __nv_bfloat16 __float2bfloat16_ru(float f) {
  return __nv_bfloat16::from_bits(mox::emu::detail::bf16_round(f, 'u'));
}
inline float __bfloat162float(__nv_bfloat16 b) { return float(b); }
inline __nv_bfloat16 __double2bfloat16(double d) { return __nv_bfloat16(d); }
inline __nv_bfloat16 __int2bfloat16_rn(int v) { return __nv_bfloat16(v); }
inline __nv_bfloat16 __uint2bfloat16_rn(unsigned v) { return __nv_bfloat16(v); }
inline int __bfloat162int_rn(__nv_bfloat16 b) { return mox::emu::detail::to_int<int>(float(b), 'n'); }
inline int __bfloat162int_rz(__nv_bfloat16 b) { return mox::emu::detail::to_int<int>(float(b), 'z'); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }
inline short __bfloat16_as_short(__nv_bfloat16 b) { return short(b.__x); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { return __nv_bfloat16::from_bits(b); }
inline __nv_bfloat16 __short_as_bfloat16(short b) { return __nv_bfloat16::from_bits((unsigned short)b); }

inline __nv_bfloat162 __float2bfloat162_rn(float f) {
  return __nv_bfloat162(__nv_bfloat16(f), __nv_bfloat16(f));
}
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
  return __nv_bfloat162(__nv_bfloat16(a), __nv_bfloat16(b));
}
inline __nv_bfloat162 __float22bfloat162_rn(float2 v) {
  return __nv_bfloat162(__nv_bfloat16(v.x), __nv_bfloat16(v.y));
}
inline float2 __bfloat1622float2(__nv_bfloat162 b) { return make_float2(float(b.x), float(b.y)); }
inline __nv_bfloat16 __low2bfloat16(__nv_bfloat162 b) { return b.x; }
inline __nv_bfloat16 __high2bfloat16(__nv_bfloat162 b) { return b.y; }
inline __nv_bfloat162 __halves2bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat162(a, b); }
inline __nv_bfloat162 __bfloat162bfloat162(__nv_bfloat16 a) { return __nv_bfloat162(a, a); }
inline __nv_bfloat162 __lows2bfloat162(__nv_bfloat162 a, __nv_bfloat162 b) { return __nv_bfloat162(a.x, b.x); }
inline __nv_bfloat162 __highs2bfloat162(__nv_bfloat162 a, __nv_bfloat162 b) { return __nv_bfloat162(a.y, b.y); }
inline __nv_bfloat162 make_bfloat162(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat162(a, b); }
