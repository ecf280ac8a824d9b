// Convolution and pooling kernel families, NCHW, dense tensors, f32 and f64.
// Convolution runs as an implicit GEMM where a device has one (the input gathered while the
// GEMM packs its panels), else as GEMM (kernels/linalg.h) over im2col columns; col2im scatters
// column gradients back onto the input; depthwise convolution has direct kernels. Pooling
// kernels work on the N*C planes independently.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

// Geometry of a 2-d convolution over n images of c channels.
struct Conv2dGeom {
  int64_t n, c, h, w;  // input
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  int64_t oh, ow;  // output
};

// im2col: x [n, c, h, w] -> col [n, c*kh*kw, oh*ow]; row (ci, i, j) of image b holds the input
// pixel that kernel tap (i, j) of channel ci sees at each output position (0 in the padding).
using Im2colFn = void(DType, const Conv2dGeom&, const void* x, void* col);
// col2im: the adjoint. Adds every column entry into the input pixel it came from; x must be
// zeroed (or hold what to add to) by the caller.
using Col2imFn = void(DType, const Conv2dGeom&, const void* col, void* x);

// Implicit-GEMM convolution with groups (weight [out_c, c/groups, kh, kw], y [n, out_c, oh, ow]).
// Forward: y = conv(x, weight) + bias (bias [out_c] in the same dtype, or null; y's old
// contents are ignored). Weight gradient: gw = sum over images of gy correlated with x
// (overwrites gw). Input gradient (overwrites gx): only where input_grad_is_convolution(g);
// other geometries throw std::invalid_argument.
// True when the input gradient of a convolution is itself a convolution of gy (with the
// flipped, transposed weight and padding dilation*(kernel-1) - padding): stride 1 and padding
// at most dilation*(kernel-1) on both axes.
inline bool input_grad_is_convolution(const Conv2dGeom& g) {
  return g.sh == 1 && g.sw == 1 && g.ph <= g.dh * (g.kh - 1) && g.pw <= g.dw * (g.kw - 1);
}
// That convolution's geometry: gy's out_c channels of oh x ow in, the input's h x w out.
inline Conv2dGeom input_grad_geom(const Conv2dGeom& g, int64_t out_c) {
  Conv2dGeom t = g;
  t.c = out_c, t.h = g.oh, t.w = g.ow;
  t.ph = g.dh * (g.kh - 1) - g.ph, t.pw = g.dw * (g.kw - 1) - g.pw;
  t.oh = g.h, t.ow = g.w;
  return t;
}

// relu: y = max(0, conv + bias), applied as the output is stored.
using ConvImplicitFn = void(DType, const Conv2dGeom&, int64_t groups, int64_t out_c, const void* x,
                            const void* weight, const void* bias, bool relu, void* y);
using ConvImplicitBackwardWeightFn = void(DType, const Conv2dGeom&, int64_t groups, int64_t out_c,
                                          const void* gy, const void* x, void* gw);
using ConvImplicitBackwardInputFn = void(DType, const Conv2dGeom&, int64_t groups, int64_t out_c,
                                         const void* gy, const void* weight, void* gx);

// Depthwise convolution (groups == c, one input channel per group, mult outputs per channel),
// computed directly: output channel ci*mult + m of image b is x[b, ci] correlated with weight
// [ci*mult + m, 0]. weight is [c*mult, 1, kh, kw]. The forward adds into y (the caller fills it
// with zeros or the bias); the backward passes overwrite gx and gw.
using DepthwiseConv2dFn = void(DType, const Conv2dGeom&, int64_t mult, const void* x,
                               const void* weight, void* y);
using DepthwiseBackwardInputFn = void(DType, const Conv2dGeom&, int64_t mult, const void* gy,
                                      const void* weight, void* gx);
using DepthwiseBackwardWeightFn = void(DType, const Conv2dGeom&, int64_t mult, const void* gy,
                                       const void* x, void* gw);

// Geometry of 2-d pooling over planes = N*C planes of h x w.
// Window of output (oy, ox): rows oy*sh - ph .. + kh (clipped to the input), likewise columns.
// adaptive: window rows floor(oy*h/oh) .. ceil((oy+1)*h/oh) (PyTorch's adaptive pooling), and
// the k/s/p fields are unused.
struct Pool2dGeom {
  int64_t planes, h, w, oh, ow;
  int64_t kh, kw, sh, sw, ph, pw;
  bool count_include_pad = true;  // avg: divide by the window size including padding
  bool adaptive = false;
};

// Max pooling: y [planes, oh, ow] and, per output, the flat index (row*w + col) of its maximum
// within the plane. NaN wins (it propagates). Backward adds gy into gx at those indices; gx must
// be zeroed.
using MaxPool2dFn = void(DType, const Pool2dGeom&, const void* x, void* y, int64_t* indices);
using MaxPool2dBackwardFn = void(DType, const Pool2dGeom&, const void* gy, const int64_t* indices,
                                 void* gx);
// Average pooling (plain or adaptive); backward overwrites gx.
using AvgPool2dFn = void(DType, const Pool2dGeom&, const void* x, void* y);
using AvgPool2dBackwardFn = void(DType, const Pool2dGeom&, const void* gy, void* gx);

MOX_STUB(conv2d_implicit_stub, ConvImplicitFn);
MOX_STUB(conv2d_implicit_backward_weight_stub, ConvImplicitBackwardWeightFn);
MOX_STUB(conv2d_implicit_backward_input_stub, ConvImplicitBackwardInputFn);
MOX_STUB(im2col_stub, Im2colFn);
MOX_STUB(col2im_stub, Col2imFn);
MOX_STUB(depthwise_conv2d_stub, DepthwiseConv2dFn);
MOX_STUB(depthwise_backward_input_stub, DepthwiseBackwardInputFn);
MOX_STUB(depthwise_backward_weight_stub, DepthwiseBackwardWeightFn);
MOX_STUB(max_pool2d_stub, MaxPool2dFn);
MOX_STUB(max_pool2d_backward_stub, MaxPool2dBackwardFn);
MOX_STUB(avg_pool2d_stub, AvgPool2dFn);
MOX_STUB(avg_pool2d_backward_stub, AvgPool2dBackwardFn);

}  // namespace mox
