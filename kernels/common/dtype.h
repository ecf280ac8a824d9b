// Element types shared by every layer: the DType tag, the 16-bit float types and the
// dispatch macros that turn a run-time DType into a compile-time C++ type.
#pragma once
#include <cstdint>
#include <cstring>

#include "kernels/common/hd.h"

namespace mox {

enum class DType : uint8_t { f32, f16, bf16, f64, i32, i64, u8, boolean };
constexpr int kNumDTypes = 8;

// IEEE binary16. Conversions are bit-exact round-to-nearest-even; bulk casts on the CPU use
// F16C when the processor has it (kernels/cpu/cast.cpp).
struct Half {
  uint16_t bits = 0;
  Half() = default;
  MOX_HD Half(float f) : bits(from_float(f)) {}
  MOX_HD operator float() const { return to_float(bits); }

  static MOX_HD uint16_t from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
    if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to inf
    if (ax < 0x38800000u) {                                   // subnormal or zero in half
      if (ax < 0x33000000u) return uint16_t(sign);
      uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
      int shift = 113 - int(ax >> 23) + 13;
      uint32_t half = mant >> shift;
      uint32_t rem = mant & ((1u << shift) - 1);
      uint32_t mid = 1u << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1))) ++half;
      return uint16_t(sign | half);
    }
    uint32_t r = ax - 0x38000000u;  // rebias exponent 127 -> 15
    uint32_t half = r >> 13;
    uint32_t rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  static MOX_HD float to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, x;
    if (exp == 0x1f) {
      x = sign | 0x7f800000u | (mant << 13);
    } else if (exp == 0) {
      if (mant == 0) {
        x = sign;
      } else {  // normalize the subnormal
        int e = -1;
        do { mant <<= 1; ++e; } while (!(mant & 0x400u));
        x = sign | uint32_t(112 - e) << 23 | (mant & 0x3ffu) << 13;
      }
    } else {
      x = sign | (exp + 112) << 23 | mant << 13;
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
  }
};

// bfloat16: the top half of an IEEE binary32, rounded to nearest even.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  MOX_HD BFloat16(float f) : bits(from_float(f)) {}
  MOX_HD operator float() const { return to_float(bits); }

  static MOX_HD uint16_t from_float(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet NaN
    x += 0x7fffu + ((x >> 16) & 1u);
    return uint16_t(x >> 16);
  }
  static MOX_HD float to_float(uint16_t b) {
    uint32_t x = uint32_t(b) << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
  }
};

// Widens the 16-bit float types to float so conversions between any two types go through
// a built-in conversion; every other type passes through.
template <class T> MOX_HD T float_or_self(T x) { return x; }
MOX_HD float float_or_self(Half x) { return float(x); }
MOX_HD float float_or_self(BFloat16 x) { return float(x); }

inline constexpr int64_t dtype_size(DType t) {
  switch (t) {
    case DType::f32: case DType::i32: return 4;
    case DType::f16: case DType::bf16: return 2;
    case DType::f64: case DType::i64: return 8;
    case DType::u8: case DType::boolean: return 1;
  }
  return 0;
}

inline constexpr const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::f64: return "f64";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::u8: return "u8";
    case DType::boolean: return "bool";
  }
  return "?";
}

inline constexpr bool is_floating(DType t) {
  return t == DType::f32 || t == DType::f64 || t == DType::f16 || t == DType::bf16;
}

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };
template <> struct dtype_of<Half> { static constexpr DType value = DType::f16; };
template <> struct dtype_of<BFloat16> { static constexpr DType value = DType::bf16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::i32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::i64; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::u8; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::boolean; };

}  // namespace mox

// MOX_DISPATCH_<set>(dtype, T, body): runs body with T bound to the C++ type of dtype.
// The caller's default branch handles types outside the set.
#define MOX_DTYPE_CASE(D, CT, T, ...) \
  case ::mox::DType::D: {             \
    using T = CT;                     \
    __VA_ARGS__;                      \
    break;                            \
  }
// Types kernels compute in: f16/bf16 arrive upcast to f32 (core does that).
#define MOX_DISPATCH_COMPUTE(dt, T, fallback, ...)        \
  switch (dt) {                                           \
    MOX_DTYPE_CASE(f32, float, T, __VA_ARGS__)            \
    MOX_DTYPE_CASE(f64, double, T, __VA_ARGS__)           \
    MOX_DTYPE_CASE(i32, int32_t, T, __VA_ARGS__)          \
    MOX_DTYPE_CASE(i64, int64_t, T, __VA_ARGS__)          \
    MOX_DTYPE_CASE(u8, uint8_t, T, __VA_ARGS__)           \
    default: fallback;                                    \
  }
#define MOX_DISPATCH_FLOAT(dt, T, fallback, ...)          \
  switch (dt) {                                           \
    MOX_DTYPE_CASE(f32, float, T, __VA_ARGS__)            \
    MOX_DTYPE_CASE(f64, double, T, __VA_ARGS__)           \
    default: fallback;                                    \
  }
#define MOX_DISPATCH_ALL(dt, T, ...)                      \
  switch (dt) {                                           \
    MOX_DTYPE_CASE(f32, float, T, __VA_ARGS__)            \
    MOX_DTYPE_CASE(f64, double, T, __VA_ARGS__)           \
    MOX_DTYPE_CASE(f16, ::mox::Half, T, __VA_ARGS__)      \
    MOX_DTYPE_CASE(bf16, ::mox::BFloat16, T, __VA_ARGS__) \
    MOX_DTYPE_CASE(i32, int32_t, T, __VA_ARGS__)          \
    MOX_DTYPE_CASE(i64, int64_t, T, __VA_ARGS__)          \
    MOX_DTYPE_CASE(u8, uint8_t, T, __VA_ARGS__)           \
    MOX_DTYPE_CASE(boolean, bool, T, __VA_ARGS__)         \
  }
