// CUDA's language surface under g++: the function and variable qualifiers, the vector types
// (float4, int2, ... with CUDA's alignments), dim3, and the built-in variables threadIdx,
// blockIdx, blockDim, gridDim (per worker thread; the scheduler rewrites them at every switch)
// and warpSize.
//
// Static __shared__ arrays become `static thread_local`: the fibers of a block all run on one
// worker, so they share the array, and each kernel and template instantiation has its own.
// Under ASan they are plain statics instead, which ASan surrounds with redzones (for kernels
// with internal linkage, as in an anonymous namespace), and launches use one worker.
// Dynamic shared memory goes through MOX_DYNAMIC_SHARED (launch.h): `extern __shared__`
// cannot be redefined. `__noinline__` is left alone: GCC's own headers use that spelling.
#pragma once

#include <cstddef>

#include "kernels/emu/config.h"

#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
#if defined(MOX_EMU_ASAN)
#define __shared__ static
#else
#define __shared__ static thread_local
#endif
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __cudart_builtin__

// ---- vector types

#define MOX_EMU_VECTOR_TYPES(name, T, align2, align4)                                        \
  struct name##1 {                                                                          \
    T x;                                                                                    \
  };                                                                                        \
  struct __attribute__((aligned(align2))) name##2 {                                         \
    T x, y;                                                                                 \
  };                                                                                        \
  struct name##3 {                                                                          \
    T x, y, z;                                                                              \
  };                                                                                        \
  struct __attribute__((aligned(align4))) name##4 {                                         \
    T x, y, z, w;                                                                           \
  };                                                                                        \
  constexpr name##1 make_##name##1(T x) { return name##1{x}; }                              \
  constexpr name##2 make_##name##2(T x, T y) { return name##2{x, y}; }                      \
  constexpr name##3 make_##name##3(T x, T y, T z) { return name##3{x, y, z}; }              \
  constexpr name##4 make_##name##4(T x, T y, T z, T w) { return name##4{x, y, z, w}; }

MOX_EMU_VECTOR_TYPES(char, signed char, 2, 4)
MOX_EMU_VECTOR_TYPES(uchar, unsigned char, 2, 4)
MOX_EMU_VECTOR_TYPES(short, short, 4, 8)
MOX_EMU_VECTOR_TYPES(ushort, unsigned short, 4, 8)
MOX_EMU_VECTOR_TYPES(int, int, 8, 16)
MOX_EMU_VECTOR_TYPES(uint, unsigned, 8, 16)
MOX_EMU_VECTOR_TYPES(long, long, 2 * sizeof(long), 16)
MOX_EMU_VECTOR_TYPES(ulong, unsigned long, 2 * sizeof(long), 16)
MOX_EMU_VECTOR_TYPES(longlong, long long, 16, 16)
MOX_EMU_VECTOR_TYPES(ulonglong, unsigned long long, 16, 16)
MOX_EMU_VECTOR_TYPES(float, float, 8, 16)
MOX_EMU_VECTOR_TYPES(double, double, 16, 16)

#undef MOX_EMU_VECTOR_TYPES

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// ---- built-in variables: one copy per worker thread, written by the scheduler

inline constinit thread_local uint3 threadIdx{0, 0, 0};
inline constinit thread_local uint3 blockIdx{0, 0, 0};
inline constinit thread_local dim3 blockDim{1, 1, 1};
inline constinit thread_local dim3 gridDim{1, 1, 1};
constexpr int warpSize = 32;
