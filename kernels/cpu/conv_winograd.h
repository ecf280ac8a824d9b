// Winograd F(4x4, 3x3) convolution for f32 on AVX-512: a quarter of the direct convolution's
// products for 3x3 stride-1 layers with enough channels to fill its vectors. Used by the
// implicit-GEMM convolution (kernels/cpu/conv_gemm.cpp) for its forward pass, stride-1 input
// gradient and weight gradient where it applies.
#pragma once
#include <cstdint>

#include "kernels/conv.h"

namespace mox::cpu {

// True when conv_winograd_f32 serves this convolution: 3x3, stride 1, dilation 1, one group,
// AVX-512, at least 16 channels in and out (one per vector lane), and few enough channel pairs
// (c * out_c <= 64 * 64) that the transformed weights stay in cache. Its results differ from a
// direct sum by a few 1e-6 of the largest output (the transforms round at the scale of a tile's
// largest terms).
bool conv_winograd_applies(const Conv2dGeom& g, int64_t groups, int64_t out_c);

// y = conv(x, w) + bias (bias may be null), then max(0, y) when relu; NCHW, w [out_c, c, 3, 3].
void conv_winograd_f32(const Conv2dGeom& g, int64_t out_c, const float* x, const float* w, const float* bias,
                       bool relu, float* y);

// gw = the weight gradient of images [b0, b1) (overwritten), on the calling thread; where
// conv_winograd_applies. The same transforms: gw = sum over tiles of G^T [(A dY A^T) . (B^T d B)] G.
void conv_winograd_weight_f32(const Conv2dGeom& g, int64_t out_c, const float* gy, const float* x, float* gw,
                              int64_t b0, int64_t b1);

}  // namespace mox::cpu
