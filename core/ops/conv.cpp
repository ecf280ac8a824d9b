// conv2d (NCHW) with stride, padding, dilation, groups and bias. Where the device has implicit-GEMM
// kernels (kernels/conv.h) the forward, the stride-1 input gradient and (but for 1x1 stride-1
// unpadded convolutions, whose weight gradient is a plain GEMM over x) the weight gradient run on
// them; otherwise, and under ConvAlgorithm::im2col, as im2col + GEMM (plain GEMMs for 1x1
// stride-1 unpadded convolutions), the input gradient as GEMM + col2im, the weight gradient as
// GEMM over the same columns, images in chunks so the column buffer stays bounded. Depthwise
// convolutions (one input channel per group) run direct kernels; the bias gradient is a sum.
// Conv2dOptions::relu makes it relu(conv2d(...)) in one op: the implicit kernels apply it as they
// store the output, and the backward masks gy with the saved output before the three gradients.
#include "core/ops/common.h"
#include "core/ops/elementwise.h"
#include "kernels/conv.h"
#include "kernels/linalg.h"

namespace mox {
namespace {

constexpr int64_t kColBudget = int64_t(1) << 22;  // elements of column buffer per chunk

struct ConvPlan {
  Conv2dGeom g;  // g.n is the whole batch
  int64_t groups, out_c;
  int64_t cg, og, kk, ohw, rows;  // channels and outputs per group, taps, positions, C*kk
  bool direct;                    // 1x1, stride 1, no padding: the input is its own column matrix
  bool depthwise;                 // one input channel per group: direct depthwise kernels
  bool implicit;                  // forward on the implicit-GEMM kernels
  bool implicit_input;            // the input gradient too (stride 1, padding within the kernel)
  bool implicit_weight;           // the weight gradient too (not for direct: a plain GEMM reads x)
  int64_t chunk;                  // images per im2col chunk
};

ConvAlgorithm& algorithm_setting() {
  static ConvAlgorithm a = ConvAlgorithm::fastest;
  return a;
}

}  // namespace

void set_conv_algorithm(ConvAlgorithm algorithm) { algorithm_setting() = algorithm; }
ConvAlgorithm conv_algorithm() { return algorithm_setting(); }

namespace {

ConvPlan plan(const Tensor& x, const Tensor& w, const Conv2dOptions& o) {
  ConvPlan p;
  p.g = {x.size(0), x.size(1), x.size(2), x.size(3), w.size(2), w.size(3), o.stride[0], o.stride[1],
         o.padding[0], o.padding[1], o.dilation[0], o.dilation[1], 0, 0};
  p.g.oh = (p.g.h + 2 * p.g.ph - p.g.dh * (p.g.kh - 1) - 1) / p.g.sh + 1;
  p.g.ow = (p.g.w + 2 * p.g.pw - p.g.dw * (p.g.kw - 1) - 1) / p.g.sw + 1;
  p.groups = o.groups;
  p.out_c = w.size(0);
  p.cg = p.g.c / p.groups;
  p.og = p.out_c / p.groups;
  p.kk = p.g.kh * p.g.kw;
  p.ohw = p.g.oh * p.g.ow;
  p.rows = p.g.c * p.kk;
  p.direct = p.kk == 1 && p.g.sh == 1 && p.g.sw == 1 && p.g.ph == 0 && p.g.pw == 0;
  p.depthwise = p.groups > 1 && p.cg == 1;
  const Device dev = x.device();
  p.implicit = conv_algorithm() == ConvAlgorithm::fastest && !p.depthwise && has_kernel(conv2d_implicit_stub, dev);
  p.implicit_weight = p.implicit && !p.direct && has_kernel(conv2d_implicit_backward_weight_stub, dev);
  p.implicit_input = p.implicit && input_grad_is_convolution(p.g) &&
                     has_kernel(conv2d_implicit_backward_input_stub, dev);
  p.chunk = std::clamp<int64_t>(kColBudget / std::max<int64_t>(1, p.rows * p.ohw), 1,
                                std::max<int64_t>(1, p.g.n));
  return p;
}

// One operand of a grid of products: matrix (image i, group j) starts at base + i*ns + j*gs.
struct GridOperand {
  const char* base;
  int64_t rs, cs, ns, gs;
};

// C(i, j) = A(i, j) · B(i, j) + beta * C(i, j) for i < images, j < groups, each m x n x k.
// Batches over groups per image, or over images per group when there are more of them and
// batch_images allows it (it does not when C(i, j) is the same matrix for every image).
void gemm_grid(const char* op, Device dev, DType dt, int64_t m, int64_t n, int64_t k,
               GridOperand a, GridOperand b, GridOperand c, int64_t images, int64_t groups,
               double beta, bool batch_images) {
  GemmFn* fn = kernel(gemm_stub, dev, op);
  int64_t es = dtype_size(dt);
  GemmDesc d;
  d.dtype = dt;
  d.m = m, d.n = n, d.k = k, d.beta = beta;
  d.a_rs = a.rs, d.a_cs = a.cs, d.b_rs = b.rs, d.b_cs = b.cs, d.c_rs = c.rs, d.c_cs = c.cs;
  bool over_images = batch_images && images > groups;
  int64_t outer = over_images ? groups : images;
  d.batch = over_images ? images : groups;
  d.a_bs = over_images ? a.ns : a.gs;
  d.b_bs = over_images ? b.ns : b.gs;
  d.c_bs = over_images ? c.ns : c.gs;
  for (int64_t i = 0; i < outer; ++i) {
    int64_t ao = over_images ? a.gs : a.ns, bo = over_images ? b.gs : b.ns, co = over_images ? c.gs : c.ns;
    d.a = a.base + i * ao * es;
    d.b = b.base + i * bo * es;
    d.c = const_cast<char*>(c.base) + i * co * es;
    fn(d);
  }
}

const char* bytes(const Tensor& t) { return static_cast<const char*>(t.raw_data()); }

// Geometry of images [n0, n0 + count).
Conv2dGeom chunk_geom(const ConvPlan& p, int64_t count) {
  Conv2dGeom g = p.g;
  g.n = count;
  return g;
}

// x, w dense in the compute type; bias any floating dtype or undefined; relu: max(0, ·) on the
// output, in the implicit kernels' stores, else as a pass over it.
Tensor conv_forward(const ConvPlan& p, const Tensor& x, const Tensor& w, const Tensor& bias, bool relu) {
  const char* op = "conv2d";
  DType ct = x.dtype();
  int64_t es = dtype_size(ct), chw = p.g.c * p.g.h * p.g.w;
  Tensor out = empty({p.g.n, p.out_c, p.g.oh, p.g.ow}, opts(ct, x.device()));
  if (out.numel() == 0) return out;
  if (p.implicit) {
    Tensor b = bias.defined() ? bias.to(ct).contiguous() : Tensor();
    kernel(conv2d_implicit_stub, x.device(), op)(ct, p.g, p.groups, p.out_c, x.raw_data(), w.raw_data(),
                                                 b.defined() ? b.raw_data() : nullptr, relu, out.raw_data());
    return out;
  }
  // The other paths leave the relu to a pass over the output.
  auto finish = [&](const Tensor& y) { return relu ? unary_raw(fn::Unary::relu, {}, op, y) : y; };
  if (bias.defined()) copy_into(out, bias.reshape({1, p.out_c, 1, 1}));
  if (p.depthwise) {
    if (!bias.defined()) out.zero_();
    kernel(depthwise_conv2d_stub, x.device(), op)(ct, p.g, p.og, x.raw_data(), w.raw_data(),
                                                  out.raw_data());
    return finish(out);
  }
  Tensor col = p.direct ? Tensor() : empty({p.chunk, p.rows, p.ohw}, opts(ct, x.device()));
  for (int64_t n0 = 0; n0 < p.g.n; n0 += p.chunk) {
    int64_t cnt = std::min(p.chunk, p.g.n - n0);
    const char* xs = bytes(x) + n0 * chw * es;
    if (!p.direct) kernel(im2col_stub, x.device(), op)(ct, chunk_geom(p, cnt), xs, col.raw_data());
    const char* src = p.direct ? xs : bytes(col);
    gemm_grid(op, x.device(), ct, p.og, p.ohw, p.cg * p.kk,
              {bytes(w), p.cg * p.kk, 1, 0, p.og * p.cg * p.kk},
              {src, p.ohw, 1, p.rows * p.ohw, p.cg * p.kk * p.ohw},
              {bytes(out) + n0 * p.out_c * p.ohw * es, p.ohw, 1, p.out_c * p.ohw, p.og * p.ohw},
              cnt, p.groups, bias.defined() ? 1 : 0, true);
  }
  return finish(out);
}

// Input gradient: columns = W^T · gy, scattered back with col2im.
Tensor conv_backward_input(const ConvPlan& p, const Tensor& gy, const Tensor& w) {
  const char* op = "conv2d_backward";
  DType ct = gy.dtype();
  int64_t es = dtype_size(ct), chw = p.g.c * p.g.h * p.g.w;
  Tensor gx = zeros({p.g.n, p.g.c, p.g.h, p.g.w}, opts(ct, gy.device()));
  if (gx.numel() == 0 || gy.numel() == 0) return gx;
  if (p.depthwise) {
    kernel(depthwise_backward_input_stub, gy.device(), op)(ct, p.g, p.og, gy.raw_data(),
                                                           w.raw_data(), gx.raw_data());
    return gx;
  }
  if (p.implicit_input) {
    kernel(conv2d_implicit_backward_input_stub, gy.device(), op)(ct, p.g, p.groups, p.out_c, gy.raw_data(),
                                                                 w.raw_data(), gx.raw_data());
    return gx;
  }
  Tensor col = p.direct ? Tensor() : empty({p.chunk, p.rows, p.ohw}, opts(ct, gy.device()));
  for (int64_t n0 = 0; n0 < p.g.n; n0 += p.chunk) {
    int64_t cnt = std::min(p.chunk, p.g.n - n0);
    const char* dst = p.direct ? bytes(gx) + n0 * chw * es : bytes(col);
    gemm_grid(op, gy.device(), ct, p.cg * p.kk, p.ohw, p.og,
              {bytes(w), 1, p.cg * p.kk, 0, p.og * p.cg * p.kk},
              {bytes(gy) + n0 * p.out_c * p.ohw * es, p.ohw, 1, p.out_c * p.ohw, p.og * p.ohw},
              {dst, p.ohw, 1, p.rows * p.ohw, p.cg * p.kk * p.ohw}, cnt, p.groups, 0, true);
    if (!p.direct)
      kernel(col2im_stub, gy.device(), op)(ct, chunk_geom(p, cnt), col.raw_data(),
                                           const_cast<char*>(bytes(gx)) + n0 * chw * es);
  }
  return gx;
}

// Weight gradient: sum over images of gy · columns^T.
Tensor conv_backward_weight(const ConvPlan& p, const Tensor& gy, const Tensor& x) {
  const char* op = "conv2d_backward";
  DType ct = gy.dtype();
  int64_t es = dtype_size(ct), chw = p.g.c * p.g.h * p.g.w;
  Tensor gw = zeros({p.out_c, p.cg, p.g.kh, p.g.kw}, opts(ct, gy.device()));
  if (gw.numel() == 0 || gy.numel() == 0) return gw;
  if (p.depthwise) {
    kernel(depthwise_backward_weight_stub, gy.device(), op)(ct, p.g, p.og, gy.raw_data(),
                                                            x.raw_data(), gw.raw_data());
    return gw;
  }
  if (p.implicit_weight) {
    kernel(conv2d_implicit_backward_weight_stub, gy.device(), op)(ct, p.g, p.groups, p.out_c, gy.raw_data(),
                                                                  x.raw_data(), gw.raw_data());
    return gw;
  }
  Tensor col = p.direct ? Tensor() : empty({p.chunk, p.rows, p.ohw}, opts(ct, gy.device()));
  for (int64_t n0 = 0; n0 < p.g.n; n0 += p.chunk) {
    int64_t cnt = std::min(p.chunk, p.g.n - n0);
    const char* xs = bytes(x) + n0 * chw * es;
    if (!p.direct) kernel(im2col_stub, x.device(), op)(ct, chunk_geom(p, cnt), xs, col.raw_data());
    const char* src = p.direct ? xs : bytes(col);
    gemm_grid(op, gy.device(), ct, p.og, p.cg * p.kk, p.ohw,
              {bytes(gy) + n0 * p.out_c * p.ohw * es, p.ohw, 1, p.out_c * p.ohw, p.og * p.ohw},
              {src, 1, p.ohw, p.rows * p.ohw, p.cg * p.kk * p.ohw},
              {bytes(gw), p.cg * p.kk, 1, 0, p.og * p.cg * p.kk}, cnt, p.groups, 1, false);
  }
  return gw;
}

void check_conv_args(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  check_defined(op, x, "input");
  check_defined(op, w, "weight");
  check_floating(op, x);
  check_floating(op, w);
  check_same_device(op, x, w);
  MOX_CHECK_T(ShapeError, x.dim() == 4, op, "input must be 4-d [N, C, H, W] (or 3-d [C, H, W]), got ",
              x.str());
  MOX_CHECK_T(ShapeError, w.dim() == 4, op,
              "weight must be 4-d [out_channels, in_channels/groups, kh, kw], got ", w.str());
  MOX_CHECK(o.groups >= 1, op, "groups must be positive, got ", o.groups);
  for (int i = 0; i < 2; ++i)
    MOX_CHECK(o.stride[i] >= 1 && o.dilation[i] >= 1 && o.padding[i] >= 0, op,
              "stride and dilation must be positive and padding non-negative, got stride (",
              o.stride[0], ", ", o.stride[1], "), dilation (", o.dilation[0], ", ", o.dilation[1],
              "), padding (", o.padding[0], ", ", o.padding[1], ")");
  int64_t c = x.size(1), out_c = w.size(0);
  MOX_CHECK_T(ShapeError, c % o.groups == 0 && out_c % o.groups == 0, op, "groups ", o.groups,
              " must divide the input channels and the output channels; input ", x.str(),
              ", weight ", w.str());
  MOX_CHECK_T(ShapeError, w.size(1) * o.groups == c, op, "input ", x.str(), " has ", c,
              " channels but weight ", w.str(), " with groups ", o.groups, " expects ",
              w.size(1) * o.groups);
  for (int i = 0; i < 2; ++i) {
    int64_t span = o.dilation[i] * (w.size(2 + i) - 1) + 1, padded = x.size(2 + i) + 2 * o.padding[i];
    MOX_CHECK_T(ShapeError, w.size(2 + i) >= 1 && span <= padded, op, "kernel ", w.str(),
                " (dilated extent ", span, ") is larger than the padded input ", x.str(),
                " (padded size ", padded, ")");
  }
  if (bias.defined()) {
    check_floating(op, bias);
    check_same_device(op, x, bias);
    MOX_CHECK_T(ShapeError, bias.dim() == 1 && bias.size(0) == out_c, op, "bias must be [", out_c,
                "] for weight ", w.str(), ", got ", bias.str());
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  check_defined("conv2d", x, "input");
  if (x.dim() == 3) return conv2d(x.unsqueeze(0), weight, bias, o).squeeze(0);
  check_conv_args(x, weight, bias, o);
  DType dt = promote_types(x.dtype(), weight.dtype());
  if (bias.defined()) dt = promote_types(dt, bias.dtype());
  DType ct = compute_type(dt);
  ConvPlan p = plan(x, weight, o);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = conv_forward(p, x.to(ct).contiguous(), weight.to(ct).contiguous(), bias, o.relu).to(dt);
  }
  // A fused relu's derivative reads the output.
  return record_op("conv2d", {x, weight, bias}, out,
                   [p, sx = SavedTensor(x), sw = SavedTensor(weight),
                    sy = SavedTensor(o.relu ? out : Tensor())](const TensorList& g, const std::vector<bool>& needs) {
                     DType ct = compute_type(g[0].dtype());
                     Tensor gy = g[0].to(ct).contiguous();
                     if (sy.defined()) {
                       Tensor y = sy.unpack("conv2d");
                       gy = unary_backward_raw(fn::Unary::relu, {}, "conv2d", y, y, gy);
                     }
                     Tensor gx, gw, gb;
                     if (needs[0])
                       gx = conv_backward_input(p, gy, sw.unpack("conv2d").to(ct).contiguous());
                     if (needs[1])
                       gw = conv_backward_weight(p, gy, sx.unpack("conv2d").to(ct).contiguous());
                     if (needs[2]) gb = sum(gy, {0, 2, 3});
                     return TensorList{gx, gw, gb};
                   });
}

}  // namespace mox
