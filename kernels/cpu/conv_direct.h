// Stride-1 f32 convolution on AVX-512 that reads the input straight from its (padded) planes,
// with no packed copy of the gathered operand. Used by the implicit-GEMM convolution
// (kernels/cpu/conv_gemm.cpp) for its forward pass and stride-1 input gradient where it applies.
#pragma once
#include <cstdint>

#include "kernels/conv.h"

namespace mox::cpu {

// True when conv_direct_f32 serves this convolution on this machine: stride 1, dilation 1,
// padded rows at least 8 wide, taps (channels per group x kh x kw) few enough that a weight
// panel stays in cache, AVX-512.
bool conv_direct_applies(const Conv2dGeom& g, int64_t groups);

// y = conv(x, w) + bias (bias may be null), NCHW, w [out_c, c/groups, kh, kw].
void conv_direct_f32(const Conv2dGeom& g, int64_t groups, int64_t out_c, const float* x, const float* w,
                     const float* bias, float* y);

}  // namespace mox::cpu
