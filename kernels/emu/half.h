// fp16 (__half, __half2) and bf16 (__nv_bfloat16, __nv_bfloat162) with CUDA's names: the
// types (trivially default-constructible, so they work in static __shared__ arrays), their
// conversions with round-to-nearest-even, subnormals, inf and NaN, the arithmetic operators,
// and the __h* intrinsics. Arithmetic is done in double and rounded once, which is correctly
// rounded for +, -, *, / and sqrt of 16-bit floats.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace mox::emu::detail {

constexpr uint16_t float_to_half_bits(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return 0x7fff;                // NaN
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to infinity
  if (a < 0x38800000u) {                              // below 2^-14: subnormal or zero
    const int e = int(a >> 23);
    if (e < 102) return uint16_t(sign);
    const uint32_t m = (a & 0x7fffffu) | 0x800000u;
    const int shift = 126 - e;
    uint32_t n = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (n & 1))) ++n;
    return uint16_t(sign | n);
  }
  uint32_t h = (a >> 13) - (112u << 10);
  const uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) ++h;
  return uint16_t(sign | h);
}

constexpr float half_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (m << 13));
  if (e == 0) {
    const float v = float(m) * 0x1p-24f;
    return sign ? -v : v;
  }
  return std::bit_cast<float>(sign | ((e + 112) << 23) | (m << 13));
}

constexpr uint16_t float_to_bf16_bits(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

constexpr float bf16_bits_to_float(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

// d rounded to float toward zero with the lowest bit set when inexact ("round to odd"): a
// second rounding to 16 bits then equals rounding d directly.
inline float round_to_odd(double d) {
  float f = float(d);
  if (std::isnan(d) || double(f) == d) return f;
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::fabs(double(f)) > std::fabs(d)) --bits;
  return std::bit_cast<float>(bits | 1u);
}

// The next 16-bit float pattern toward +inf (up) or -inf.
constexpr uint16_t step16(uint16_t h, bool up) {
  const bool neg = h & 0x8000u, zero = (h & 0x7fffu) == 0;
  if (zero) return up ? 0x0001 : 0x8001;
  return uint16_t(up != neg ? h + 1 : h - 1);
}

// Converts with a directed rounding: rz toward zero, rd down, ru up.
template <uint16_t (*FromFloat)(float), float (*ToFloat)(uint16_t)>
constexpr uint16_t round16(float f, char mode) {
  uint16_t h = FromFloat(f);
  if (f != f) return h;
  const float v = ToFloat(h);
  if (mode == 'z' && std::fabs(v) > std::fabs(f)) h = step16(h, v < 0);
  if (mode == 'd' && v > f) h = step16(h, false);
  if (mode == 'u' && v < f) h = step16(h, true);
  return h;
}

}  // namespace mox::emu::detail

struct __half_raw {
  unsigned short x;
};
struct __nv_bfloat16_raw {
  unsigned short x;
};

// One 16-bit float type H with pair type H2, raw type R, bits<->float functions F2B / B2F.
#define MOX_EMU_FLOAT16(H, H2, R, F2B, B2F)                                                       \
  struct __attribute__((aligned(2))) H {                                                          \
    unsigned short __x;                                                                           \
    H() = default;                                                                                \
    constexpr H(const R& r) : __x(r.x) {}                                                         \
    constexpr H(float f) : __x(mox::emu::detail::F2B(f)) {}                                       \
    H(double d) : __x(mox::emu::detail::F2B(mox::emu::detail::round_to_odd(d))) {}              \
    H(int v) : H(double(v)) {}                                                                    \
    H(unsigned v) : H(double(v)) {}                                                               \
    H(long v) : H(double(v)) {}                                                                   \
    H(unsigned long v) : H(double(v)) {}                                                          \
    H(long long v) : H(double(v)) {}                                                              \
    H(unsigned long long v) : H(double(v)) {}                                                     \
    H(short v) : H(double(v)) {}                                                                  \
    H(unsigned short v) : H(double(v)) {}                                                         \
    constexpr operator float() const { return mox::emu::detail::B2F(__x); }                       \
    constexpr operator R() const { return R{__x}; }                                               \
    static constexpr H from_bits(unsigned short b) { return H(R{b}); }                            \
  };                                                                                              \
  struct __attribute__((aligned(4))) H2 {                                                         \
    H x, y;                                                                                       \
    H2() = default;                                                                               \
    constexpr H2(H a, H b) : x(a), y(b) {}                                                        \
  };                                                                                              \
  inline double mox_emu_d(H a) { return double(float(a)); }                                      \
  inline H operator+(H a, H b) { return H(mox_emu_d(a) + mox_emu_d(b)); }                        \
  inline H operator-(H a, H b) { return H(mox_emu_d(a) - mox_emu_d(b)); }                        \
  inline H operator*(H a, H b) { return H(mox_emu_d(a) * mox_emu_d(b)); }                        \
  inline H operator/(H a, H b) { return H(mox_emu_d(a) / mox_emu_d(b)); }                        \
  inline H operator-(H a) { return H::from_bits((unsigned short)(a.__x ^ 0x8000u)); }           \
  inline H operator+(H a) { return a; }                                                          \
  inline H& operator+=(H& a, H b) { return a = a + b; }                                          \
  inline H& operator-=(H& a, H b) { return a = a - b; }                                          \
  inline H& operator*=(H& a, H b) { return a = a * b; }                                          \
  inline H& operator/=(H& a, H b) { return a = a / b; }                                          \
  inline H& operator++(H& a) { return a = a + H(1.0f); }                                         \
  inline H& operator--(H& a) { return a = a - H(1.0f); }                                         \
  inline H operator++(H& a, int) { H r = a; ++a; return r; }                                     \
  inline H operator--(H& a, int) { H r = a; --a; return r; }                                     \
  inline bool operator==(H a, H b) { return float(a) == float(b); }                              \
  inline bool operator!=(H a, H b) { return float(a) != float(b); }                              \
  inline bool operator<(H a, H b) { return float(a) < float(b); }                                \
  inline bool operator>(H a, H b) { return float(a) > float(b); }                                \
  inline bool operator<=(H a, H b) { return float(a) <= float(b); }                              \
  inline bool operator>=(H a, H b) { return float(a) >= float(b); }                              \
  inline H2 operator+(H2 a, H2 b) { return H2(a.x + b.x, a.y + b.y); }                           \
  inline H2 operator-(H2 a, H2 b) { return H2(a.x - b.x, a.y - b.y); }                           \
  inline H2 operator*(H2 a, H2 b) { return H2(a.x * b.x, a.y * b.y); }                           \
  inline H2 operator/(H2 a, H2 b) { return H2(a.x / b.x, a.y / b.y); }                           \
  inline H2 operator-(H2 a) { return H2(-a.x, -a.y); }                                           \
  inline H2& operator+=(H2& a, H2 b) { return a = a + b; }                                       \
  inline H2& operator-=(H2& a, H2 b) { return a = a - b; }                                       \
  inline H2& operator*=(H2& a, H2 b) { return a = a * b; }                                       \
  inline H2& operator/=(H2& a, H2 b) { return a = a / b; }                                       \
  inline bool operator==(H2 a, H2 b) { return a.x == b.x && a.y == b.y; }                        \
  inline bool operator!=(H2 a, H2 b) { return !(a == b); }                                       \
  /* scalar intrinsics */                                                                        \
  inline H __hadd(H a, H b) { return a + b; }                                                    \
  inline H __hsub(H a, H b) { return a - b; }                                                    \
  inline H __hmul(H a, H b) { return a * b; }                                                    \
  inline H __hdiv(H a, H b) { return a / b; }                                                    \
  inline H __hfma(H a, H b, H c) { return H(std::fma(mox_emu_d(a), mox_emu_d(b), mox_emu_d(c))); } \
  inline H __hneg(H a) { return -a; }                                                            \
  inline H __habs(H a) { return H::from_bits((unsigned short)(a.__x & 0x7fffu)); }              \
  inline bool __hisnan(H a) { return float(a) != float(a); }                                     \
  inline int __hisinf(H a) { float f = float(a); return std::isinf(f) ? (f < 0 ? -1 : 1) : 0; } \
  inline H __hmax(H a, H b) { return __hisnan(a) ? b : __hisnan(b) ? a : (a < b ? b : a); }     \
  inline H __hmin(H a, H b) { return __hisnan(a) ? b : __hisnan(b) ? a : (b < a ? b : a); }     \
  inline H __hmax_nan(H a, H b) { return __hisnan(a) || __hisnan(b) ? H(NAN) : __hmax(a, b); }  \
  inline H __hmin_nan(H a, H b) { return __hisnan(a) || __hisnan(b) ? H(NAN) : __hmin(a, b); }  \
  inline H mox_emu_sat(H a) { float f = float(a); return H(f != f ? 0.0f : f < 0 ? 0.0f : f > 1 ? 1.0f : f); } \
  inline H __hadd_sat(H a, H b) { return mox_emu_sat(a + b); }                                  \
  inline H __hsub_sat(H a, H b) { return mox_emu_sat(a - b); }                                  \
  inline H __hmul_sat(H a, H b) { return mox_emu_sat(a * b); }                                  \
  inline H __hfma_sat(H a, H b, H c) { return mox_emu_sat(__hfma(a, b, c)); }                   \
  inline H __hfma_relu(H a, H b, H c) { H r = __hfma(a, b, c); return float(r) < 0 ? H(0.0f) : r; } \
  inline bool __heq(H a, H b) { return a == b; }                                                 \
  inline bool __hne(H a, H b) { return !__hisnan(a) && !__hisnan(b) && a != b; }                 \
  inline bool __hlt(H a, H b) { return a < b; }                                                  \
  inline bool __hle(H a, H b) { return a <= b; }                                                 \
  inline bool __hgt(H a, H b) { return a > b; }                                                  \
  inline bool __hge(H a, H b) { return a >= b; }                                                 \
  inline H hsqrt(H a) { return H(std::sqrt(mox_emu_d(a))); }                                     \
  inline H hrsqrt(H a) { return H(1.0 / std::sqrt(mox_emu_d(a))); }                              \
  inline H hrcp(H a) { return H(1.0 / mox_emu_d(a)); }                                           \
  inline H hexp(H a) { return H(std::exp(mox_emu_d(a))); }                                       \
  inline H hexp2(H a) { return H(std::exp2(mox_emu_d(a))); }                                     \
  inline H hexp10(H a) { return H(std::pow(10.0, mox_emu_d(a))); }                               \
  inline H hlog(H a) { return H(std::log(mox_emu_d(a))); }                                       \
  inline H hlog2(H a) { return H(std::log2(mox_emu_d(a))); }                                     \
  inline H hlog10(H a) { return H(std::log10(mox_emu_d(a))); }                                   \
  inline H hsin(H a) { return H(std::sin(mox_emu_d(a))); }                                       \
  inline H hcos(H a) { return H(std::cos(mox_emu_d(a))); }                                       \
  inline H htanh(H a) { return H(std::tanh(mox_emu_d(a))); }                                     \
  inline H hceil(H a) { return H(std::ceil(mox_emu_d(a))); }                                     \
  inline H hfloor(H a) { return H(std::floor(mox_emu_d(a))); }                                   \
  inline H htrunc(H a) { return H(std::trunc(mox_emu_d(a))); }                                   \
  inline H hrint(H a) { return H(std::nearbyint(mox_emu_d(a))); }                                \
  /* pair intrinsics */                                                                          \
  inline H2 __hadd2(H2 a, H2 b) { return a + b; }                                                \
  inline H2 __hsub2(H2 a, H2 b) { return a - b; }                                                \
  inline H2 __hmul2(H2 a, H2 b) { return a * b; }                                                \
  inline H2 __h2div(H2 a, H2 b) { return a / b; }                                                \
  inline H2 __hfma2(H2 a, H2 b, H2 c) { return H2(__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)); } \
  inline H2 __hfma2_relu(H2 a, H2 b, H2 c) { return H2(__hfma_relu(a.x, b.x, c.x), __hfma_relu(a.y, b.y, c.y)); } \
  inline H2 __hneg2(H2 a) { return -a; }                                                         \
  inline H2 __habs2(H2 a) { return H2(__habs(a.x), __habs(a.y)); }                               \
  inline H2 __hmax2(H2 a, H2 b) { return H2(__hmax(a.x, b.x), __hmax(a.y, b.y)); }               \
  inline H2 __hmin2(H2 a, H2 b) { return H2(__hmin(a.x, b.x), __hmin(a.y, b.y)); }               \
  inline H2 h2sqrt(H2 a) { return H2(hsqrt(a.x), hsqrt(a.y)); }                                  \
  inline H2 h2exp(H2 a) { return H2(hexp(a.x), hexp(a.y)); }                                     \
  inline H2 h2log(H2 a) { return H2(hlog(a.x), hlog(a.y)); }

MOX_EMU_FLOAT16(__half, __half2, __half_raw, float_to_half_bits, half_bits_to_float)
MOX_EMU_FLOAT16(__nv_bfloat16, __nv_bfloat162, __nv_bfloat16_raw, float_to_bf16_bits,
                bf16_bits_to_float)
#undef MOX_EMU_FLOAT16

typedef __half half;
typedef __half2 half2;
typedef __nv_bfloat16 nv_bfloat16;
typedef __nv_bfloat162 nv_bfloat162;

#include "kernels/emu/half_convert.h"
