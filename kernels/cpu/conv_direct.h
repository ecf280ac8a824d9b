// Stride-1 f32 convolution on AVX-512 that reads the input straight from its (padded) planes,
// with no packed copy of the gathered operand. Used by the implicit-GEMM convolution
// (kernels/cpu/conv_gemm.cpp) for its forward pass and stride-1 input gradient where it applies.
#pragma once
#include <cstdint>

#include "kernels/conv.h"

namespace mox::cpu {

// Below this many flops a convolution kernel runs on the calling thread.
constexpr double kConvParallelFlops = double(1 << 20);

// True when conv_direct_f32 serves this convolution on this machine: stride 1, dilation 1,
// padded rows at least 8 wide, taps (channels per group x kh x kw) few enough that a weight
// panel stays in cache, AVX-512.
bool conv_direct_applies(const Conv2dGeom& g, int64_t groups);

// y = conv(x, w) + bias (bias may be null), then max(0, y) when relu; NCHW, w [out_c, c/groups,
// kh, kw].
void conv_direct_f32(const Conv2dGeom& g, int64_t groups, int64_t out_c, const float* x, const float* w,
                     const float* bias, bool relu, float* y);

// True when conv_direct_weight_f32 serves this convolution's weight gradient: as above, and an
// image's positions few enough (at most 1024 on the padded grid) that a block of eight output
// gradient rows stays in L1, and enough (at least 256) to amortize the final sums.
bool conv_direct_weight_applies(const Conv2dGeom& g, int64_t groups);

// gw = the weight gradient of images [b0, b1) (overwritten), on the calling thread.
void conv_direct_weight_f32(const Conv2dGeom& g, int64_t groups, int64_t out_c, const float* gy, const float* x,
                            float* gw, int64_t b0, int64_t b1);

}  // namespace mox::cpu
