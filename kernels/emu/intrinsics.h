// CUDA device functions that the C and C++ libraries lack or spell differently: the global
// min/max overloads, fast-math and correctly-rounded float intrinsics (__expf, __fdividef,
// __saturatef, rsqrtf, ...), the special functions glibc does not have (erfinvf, normcdff,
// sinpif, ...), integer and bit intrinsics (__popc, __clz, __byte_perm, __funnelshift_l, ...),
// conversions with explicit rounding, cache-hinted loads and stores (__ldg, ...), fences,
// clock64, __nanosleep and __trap. Ordinary math (expf, sqrtf, fmaf, tanhf, ...) comes from
// <math.h> as on the device.
#pragma once

#include <math.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/emu/half.h"
#include "kernels/emu/sync.h"

// ---- min / max, with CUDA's overloads (mixed signedness goes unsigned)

#define MOX_EMU_MINMAX(A, B, R)                                       \
  inline R min(A a, B b) {                                            \
    const R x = static_cast<R>(a), y = static_cast<R>(b);             \
    return y < x ? y : x;                                             \
  }                                                                   \
  inline R max(A a, B b) {                                            \
    const R x = static_cast<R>(a), y = static_cast<R>(b);             \
    return x < y ? y : x;                                             \
  }
MOX_EMU_MINMAX(int, int, int)
MOX_EMU_MINMAX(unsigned, unsigned, unsigned)
MOX_EMU_MINMAX(int, unsigned, unsigned)
MOX_EMU_MINMAX(unsigned, int, unsigned)
MOX_EMU_MINMAX(long, long, long)
MOX_EMU_MINMAX(unsigned long, unsigned long, unsigned long)
MOX_EMU_MINMAX(long, unsigned long, unsigned long)
MOX_EMU_MINMAX(unsigned long, long, unsigned long)
MOX_EMU_MINMAX(long long, long long, long long)
MOX_EMU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
MOX_EMU_MINMAX(long long, unsigned long long, unsigned long long)
MOX_EMU_MINMAX(unsigned long long, long long, unsigned long long)
#undef MOX_EMU_MINMAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin(double(a), b); }
inline double max(float a, double b) { return fmax(double(a), b); }
inline double min(double a, float b) { return fmin(a, double(b)); }
inline double max(double a, float b) { return fmax(a, double(b)); }

// ---- float intrinsics

inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x), *c = cosf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline double __dsqrt_rn(double x) { return sqrt(x); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline double sinpi(double x) { return sin(M_PI * x); }
inline double cospi(double x) { return cos(M_PI * x); }
inline float sinpif(float x) { return float(sinpi(double(x))); }
inline float cospif(float x) { return float(cospi(double(x))); }
inline void sincospif(float x, float* s, float* c) { *s = sinpif(x), *c = cospif(x); }

namespace mox::emu::detail {
// erfinv by Giles' single-precision approximation, refined by two Newton steps in double.
inline double erfinv(double y) {
  if (y <= -1.0) return y == -1.0 ? -INFINITY : NAN;
  if (y >= 1.0) return y == 1.0 ? INFINITY : NAN;
  double w = -std::log((1.0 - y) * (1.0 + y)), x;
  if (w < 5.0) {
    w -= 2.5;
    double p = 2.81022636e-08;
    for (double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                     -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
    x = p * y;
  } else {
    w = std::sqrt(w) - 3.0;
    double p = -0.000200214257;
    for (double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                     0.00943887047, 1.00167406, 2.83297682})
      p = c + p * w;
    x = p * y;
  }
  for (int i = 0; i < 2; ++i) x -= (std::erf(x) - y) / (M_2_SQRTPI * std::exp(-x * x));
  return x;
}
// erfcinv by Newton steps on log(erfc(x)), accurate far into the tail where erfinv(1 - y)
// loses everything to the rounding of 1 - y.
inline double erfcinv(double y) {
  if (y <= 0.0) return y == 0.0 ? INFINITY : NAN;
  if (y >= 2.0) return y == 2.0 ? -INFINITY : NAN;
  if (y > 1.0) return -erfcinv(2.0 - y);
  double x = y > 1e-8 ? erfinv(1.0 - y) : std::sqrt(-std::log(y));
  for (int i = 0; i < 50; ++i) {
    const double e = std::erfc(x), slope = M_2_SQRTPI * std::exp(-x * x);
    if (e <= 0.0 || slope <= 0.0) break;
    const double step = (std::log(e) - std::log(y)) * e / slope;
    x += step;
    if (std::fabs(step) <= 1e-15 * std::fabs(x)) break;
  }
  return x;
}
}  // namespace mox::emu::detail

inline double erfinv(double y) { return mox::emu::detail::erfinv(y); }
inline float erfinvf(float y) { return float(mox::emu::detail::erfinv(y)); }
inline double erfcinv(double y) { return mox::emu::detail::erfcinv(y); }
inline float erfcinvf(float y) { return float(mox::emu::detail::erfcinv(y)); }
inline double normcdf(double x) { return 0.5 * erfc(-x * M_SQRT1_2); }
inline float normcdff(float x) { return float(normcdf(double(x))); }
inline double normcdfinv(double p) { return -M_SQRT2 * mox::emu::detail::erfcinv(2.0 * p); }
inline float normcdfinvf(float p) { return float(normcdfinv(double(p))); }

// ---- conversions with explicit rounding (n nearest even, z toward zero, d down, u up)

#define MOX_EMU_FLOAT_TO_INT(name, F, I, mode) \
  inline I name(F x) { return mox::emu::detail::to_int<I>(float(x), mode); }
MOX_EMU_FLOAT_TO_INT(__float2int_rn, float, int, 'n')
MOX_EMU_FLOAT_TO_INT(__float2int_rz, float, int, 'z')
MOX_EMU_FLOAT_TO_INT(__float2int_rd, float, int, 'd')
MOX_EMU_FLOAT_TO_INT(__float2int_ru, float, int, 'u')
MOX_EMU_FLOAT_TO_INT(__float2uint_rn, float, unsigned, 'n')
MOX_EMU_FLOAT_TO_INT(__float2uint_rz, float, unsigned, 'z')
MOX_EMU_FLOAT_TO_INT(__float2uint_rd, float, unsigned, 'd')
MOX_EMU_FLOAT_TO_INT(__float2uint_ru, float, unsigned, 'u')
MOX_EMU_FLOAT_TO_INT(__float2ll_rn, float, long long, 'n')
MOX_EMU_FLOAT_TO_INT(__float2ll_rz, float, long long, 'z')
MOX_EMU_FLOAT_TO_INT(__float2ull_rn, float, unsigned long long, 'n')
MOX_EMU_FLOAT_TO_INT(__float2ull_rz, float, unsigned long long, 'z')
#undef MOX_EMU_FLOAT_TO_INT
inline int __double2int_rn(double x) { return x != x ? 0 : int(std::clamp(std::nearbyint(x), -2147483648.0, 2147483647.0)); }
inline int __double2int_rz(double x) { return x != x ? 0 : int(std::clamp(std::trunc(x), -2147483648.0, 2147483647.0)); }
inline float __int2float_rn(int x) { return float(x); }
inline float __uint2float_rn(unsigned x) { return float(x); }
inline float __ll2float_rn(long long x) { return float(x); }
inline float __ull2float_rn(unsigned long long x) { return float(x); }
inline double __int2double_rn(int x) { return double(x); }
inline double __ll2double_rn(long long x) { return double(x); }
inline float __double2float_rn(double x) { return float(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }
inline int __double2hiint(double x) { return int(std::bit_cast<uint64_t>(x) >> 32); }
inline int __double2loint(double x) { return int(uint32_t(std::bit_cast<uint64_t>(x))); }
inline double __hiloint2double(int hi, int lo) {
  return std::bit_cast<double>(uint64_t(uint32_t(hi)) << 32 | uint32_t(lo));
}

// ---- integer and bit intrinsics

inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }
inline int __clz(int x) { return std::countl_zero(unsigned(x)); }
inline int __clzll(long long x) { return std::countl_zero((unsigned long long)x); }
inline int __ffs(int x) { return x ? std::countr_zero(unsigned(x)) + 1 : 0; }
inline int __ffsll(long long x) { return x ? std::countr_zero((unsigned long long)x) + 1 : 0; }
inline unsigned __brev(unsigned x) {
  x = (x >> 1 & 0x55555555u) | (x & 0x55555555u) << 1;
  x = (x >> 2 & 0x33333333u) | (x & 0x33333333u) << 2;
  x = (x >> 4 & 0x0f0f0f0fu) | (x & 0x0f0f0f0fu) << 4;
  return __builtin_bswap32(x);
}
inline unsigned long long __brevll(unsigned long long x) {
  return (unsigned long long)__brev(unsigned(x)) << 32 | __brev(unsigned(x >> 32));
}
// Byte i of the result is byte s[4i+2:4i] of the 8-byte value y:x.
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  const uint64_t v = uint64_t(y) << 32 | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i) r |= unsigned(v >> (8 * ((s >> (4 * i)) & 7)) & 0xff) << (8 * i);
  return r;
}
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned shift) {
  return unsigned((uint64_t(hi) << 32 | lo) << (shift & 31) >> 32);
}
inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned shift) {
  return unsigned((uint64_t(hi) << 32 | lo) << (shift < 32 ? shift : 32) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift) {
  return unsigned((uint64_t(hi) << 32 | lo) >> (shift & 31));
}
inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned shift) {
  return unsigned((uint64_t(hi) << 32 | lo) >> (shift < 32 ? shift : 32));
}
inline int __mulhi(int a, int b) { return int((int64_t(a) * b) >> 32); }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline long long __mul64hi(long long a, long long b) { return (long long)((__int128(a) * b) >> 64); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return (unsigned long long)((unsigned __int128)a * b >> 64);
}
inline int __mul24(int a, int b) { return int(uint32_t(a << 8 >> 8) * uint32_t(b << 8 >> 8)); }
inline unsigned __umul24(unsigned a, unsigned b) { return (a & 0xffffffu) * (b & 0xffffffu); }
inline unsigned __sad(int x, int y, unsigned z) { return (x > y ? unsigned(x) - unsigned(y) : unsigned(y) - unsigned(x)) + z; }
inline unsigned __usad(unsigned x, unsigned y, unsigned z) { return (x > y ? x - y : y - x) + z; }
inline int __hadd(int a, int b) { return int((int64_t(a) + b) >> 1); }
inline int __rhadd(int a, int b) { return int((int64_t(a) + b + 1) >> 1); }
inline unsigned __uhadd(unsigned a, unsigned b) { return unsigned((uint64_t(a) + b) >> 1); }
inline unsigned __urhadd(unsigned a, unsigned b) { return unsigned((uint64_t(a) + b + 1) >> 1); }

// ---- memory: cache-hinted loads and stores are plain accesses; fences

template <class T> T __ldg(const T* p) { return *p; }
template <class T> T __ldcg(const T* p) { return *p; }
template <class T> T __ldca(const T* p) { return *p; }
template <class T> T __ldcs(const T* p) { return *p; }
template <class T> T __ldlu(const T* p) { return *p; }
template <class T> T __ldcv(const T* p) { return *p; }
template <class T> void __stcg(T* p, T v) { *p = v; }
template <class T> void __stcs(T* p, T v) { *p = v; }
template <class T> void __stwb(T* p, T v) { *p = v; }
template <class T> void __stwt(T* p, T v) { *p = v; }

#if defined(MOX_EMU_TSAN)
// TSan does not model fences; a fence alone does not make a racy access safe anyway.
inline void __threadfence() { std::atomic_signal_fence(std::memory_order_seq_cst); }
#else
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif
inline void __threadfence_block() { __threadfence(); }
inline void __threadfence_system() { __threadfence(); }

inline long long clock64() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// Fibers are never preempted, so sleeping (or spinning) cannot let another thread progress.
inline void __nanosleep(unsigned) {}

// Ends the kernel with a report naming the calling thread.
[[noreturn]] inline void __trap(mox_emu_loc loc = mox_emu_loc::current()) {
  throw mox::emu::detail::FiberMisuse(
      "trap", "__trap() called by thread " + mox::emu::detail::coords(threadIdx) + " at " +
                  mox::emu::detail::site(loc));
}
[[noreturn]] inline void __brkpt(mox_emu_loc loc = mox_emu_loc::current()) { __trap(loc); }
