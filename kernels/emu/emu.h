// The CUDA emulator: lets a CUDA kernel file compile with g++ and run on the CPU. Include it
// through kernels/cuda/mox_cuda.h, never directly from a kernel file. See README.md.
#pragma once

#include "kernels/emu/config.h"
#include "kernels/emu/types.h"
#include "kernels/emu/scheduler.h"
#include "kernels/emu/api.h"
#include "kernels/emu/launch.h"
#include "kernels/emu/sync.h"
#include "kernels/emu/half.h"
#include "kernels/emu/atomics.h"
#include "kernels/emu/intrinsics.h"
#include "kernels/emu/wmma.h"

// Math constants of CUDA's math_constants.h that kernels use.
#define CUDART_INF_F __builtin_inff()
#define CUDART_NAN_F __builtin_nanf("")
#define CUDART_INF __builtin_inf()
#define CUDART_NAN __builtin_nan("")
#define CUDART_PI_F 3.141592654f
#define CUDART_PI 3.1415926535897931
