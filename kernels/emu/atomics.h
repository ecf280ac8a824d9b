// CUDA atomics through std::atomic_ref, relaxed like CUDA's (they order nothing else, so under
// TSan they do not hide missing barriers). Fibers of a block never run at the same time, but
// blocks on different workers do: these are real atomics. The _block and _system variants are
// the same operations.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>

#include "kernels/emu/half.h"
#include "kernels/emu/types.h"

namespace mox::emu::detail {

constexpr auto relaxed = std::memory_order_relaxed;

template <class T>
std::atomic_ref<T> aref(T* p) {
  return std::atomic_ref<T>(*p);
}

// Replaces *p by f(*p) atomically; returns the old value.
template <class T, class F>
T update(T* p, F f) {
  std::atomic_ref<T> a(*p);
  T old = a.load(relaxed);
  while (!a.compare_exchange_weak(old, f(old), relaxed)) {
  }
  return old;
}

// The same for a 16-bit float type H, or a pair type (stored as one 32-bit word).
template <class H, class F>
H update16(H* p, F f) {
  const unsigned short old = update(&p->__x, [&](unsigned short b) { return f(H::from_bits(b)).__x; });
  return H::from_bits(old);
}
template <class H2, class F>
H2 update32(H2* p, F f) {
  static_assert(sizeof(H2) == 4);
  auto* word = reinterpret_cast<uint32_t*>(p);
  const uint32_t old = update(word, [&](uint32_t w) {
    H2 v;
    std::memcpy(&v, &w, 4);
    v = f(v);
    std::memcpy(&w, &v, 4);
    return w;
  });
  H2 r;
  std::memcpy(&r, &old, 4);
  return r;
}

}  // namespace mox::emu::detail

#define MOX_EMU_FETCH(name, T, fetch) \
  inline T name(T* p, T v) { return mox::emu::detail::aref(p).fetch(v, mox::emu::detail::relaxed); }

MOX_EMU_FETCH(atomicAdd, int, fetch_add)
MOX_EMU_FETCH(atomicAdd, unsigned, fetch_add)
MOX_EMU_FETCH(atomicAdd, unsigned long long, fetch_add)
MOX_EMU_FETCH(atomicAdd, float, fetch_add)
MOX_EMU_FETCH(atomicAdd, double, fetch_add)
MOX_EMU_FETCH(atomicSub, int, fetch_sub)
MOX_EMU_FETCH(atomicSub, unsigned, fetch_sub)
MOX_EMU_FETCH(atomicExch, int, exchange)
MOX_EMU_FETCH(atomicExch, unsigned, exchange)
MOX_EMU_FETCH(atomicExch, unsigned long long, exchange)
MOX_EMU_FETCH(atomicExch, float, exchange)
MOX_EMU_FETCH(atomicAnd, int, fetch_and)
MOX_EMU_FETCH(atomicAnd, unsigned, fetch_and)
MOX_EMU_FETCH(atomicAnd, unsigned long long, fetch_and)
MOX_EMU_FETCH(atomicOr, int, fetch_or)
MOX_EMU_FETCH(atomicOr, unsigned, fetch_or)
MOX_EMU_FETCH(atomicOr, unsigned long long, fetch_or)
MOX_EMU_FETCH(atomicXor, int, fetch_xor)
MOX_EMU_FETCH(atomicXor, unsigned, fetch_xor)
MOX_EMU_FETCH(atomicXor, unsigned long long, fetch_xor)
MOX_EMU_FETCH(atomicAnd, long long, fetch_and)
MOX_EMU_FETCH(atomicOr, long long, fetch_or)
MOX_EMU_FETCH(atomicXor, long long, fetch_xor)
#undef MOX_EMU_FETCH

#define MOX_EMU_MINMAX(T)                                                                     \
  inline T atomicMin(T* p, T v) {                                                             \
    return mox::emu::detail::update(p, [v](T old) { return v < old ? v : old; });             \
  }                                                                                           \
  inline T atomicMax(T* p, T v) {                                                             \
    return mox::emu::detail::update(p, [v](T old) { return old < v ? v : old; });             \
  }
MOX_EMU_MINMAX(int)
MOX_EMU_MINMAX(unsigned)
MOX_EMU_MINMAX(long long)
MOX_EMU_MINMAX(unsigned long long)
#undef MOX_EMU_MINMAX

// ((old >= v) ? 0 : old + 1)
inline unsigned atomicInc(unsigned* p, unsigned v) {
  return mox::emu::detail::update(p, [v](unsigned old) { return old >= v ? 0u : old + 1; });
}
// ((old == 0 || old > v) ? v : old - 1)
inline unsigned atomicDec(unsigned* p, unsigned v) {
  return mox::emu::detail::update(p, [v](unsigned old) { return old == 0 || old > v ? v : old - 1; });
}

#define MOX_EMU_CAS(T)                                                              \
  inline T atomicCAS(T* p, T compare, T v) {                                        \
    mox::emu::detail::aref(p).compare_exchange_strong(compare, v,                   \
                                                      mox::emu::detail::relaxed);   \
    return compare;                                                                 \
  }
MOX_EMU_CAS(int)
MOX_EMU_CAS(unsigned)
MOX_EMU_CAS(unsigned long long)
MOX_EMU_CAS(unsigned short)
#undef MOX_EMU_CAS

inline __half atomicAdd(__half* p, __half v) {
  return mox::emu::detail::update16(p, [v](__half old) { return old + v; });
}
inline __nv_bfloat16 atomicAdd(__nv_bfloat16* p, __nv_bfloat16 v) {
  return mox::emu::detail::update16(p, [v](__nv_bfloat16 old) { return old + v; });
}
inline __half2 atomicAdd(__half2* p, __half2 v) {
  return mox::emu::detail::update32(p, [v](__half2 old) { return old + v; });
}
inline __nv_bfloat162 atomicAdd(__nv_bfloat162* p, __nv_bfloat162 v) {
  return mox::emu::detail::update32(p, [v](__nv_bfloat162 old) { return old + v; });
}

// sm_90's vector adds: each component is atomic on its own, as on the GPU.
inline float2 atomicAdd(float2* p, float2 v) {
  return make_float2(atomicAdd(&p->x, v.x), atomicAdd(&p->y, v.y));
}
inline float4 atomicAdd(float4* p, float4 v) {
  return make_float4(atomicAdd(&p->x, v.x), atomicAdd(&p->y, v.y), atomicAdd(&p->z, v.z),
                     atomicAdd(&p->w, v.w));
}

#define MOX_EMU_SCOPED(op)                   \
  template <class... A>                      \
  auto op##_block(A... a) {                  \
    return op(a...);                         \
  }                                          \
  template <class... A>                      \
  auto op##_system(A... a) {                 \
    return op(a...);                         \
  }
MOX_EMU_SCOPED(atomicAdd)
MOX_EMU_SCOPED(atomicSub)
MOX_EMU_SCOPED(atomicExch)
MOX_EMU_SCOPED(atomicMin)
MOX_EMU_SCOPED(atomicMax)
MOX_EMU_SCOPED(atomicInc)
MOX_EMU_SCOPED(atomicDec)
MOX_EMU_SCOPED(atomicCAS)
MOX_EMU_SCOPED(atomicAnd)
MOX_EMU_SCOPED(atomicOr)
MOX_EMU_SCOPED(atomicXor)
#undef MOX_EMU_SCOPED
