// The one header a CUDA kernel file includes, and the only place that asks which compiler is
// running. Under nvcc it is CUDA itself; under any other compiler it is the CPU emulator of
// kernels/emu, so the same .cu source also builds with g++ and runs in every test run.
// It provides, in both builds:
//   MOX_LAUNCH(grid, block, smem, stream, kernel)(args...)   instead of kernel<<<...>>>(args...)
//   MOX_DYNAMIC_SHARED(T, name);                             instead of extern __shared__ T name[]
//   MOX_CUDA_EMULATED                                        1 under the emulator, 0 under nvcc
// Conventions for kernel files: kernels/cuda/README.md.
#pragma once

#if defined(__CUDACC__)

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math_constants.h>
#include <mma.h>

#define MOX_CUDA_EMULATED 0
#define MOX_LAUNCH(grid, block, smem, stream, ...) __VA_ARGS__<<<(grid), (block), (smem), (stream)>>>
#define MOX_DYNAMIC_SHARED(T, name)                                       \
  extern __shared__ __align__(16) unsigned char mox_dynamic_shared_[];    \
  T* name = reinterpret_cast<T*>(mox_dynamic_shared_)

#else

#include "kernels/emu/emu.h"

#define MOX_CUDA_EMULATED 1

#endif
