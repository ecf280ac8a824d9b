// Pooling over NCHW (or unbatched CHW) tensors: max_pool2d, avg_pool2d (padding, ceil mode,
// count_include_pad), adaptive_avg_pool2d (PyTorch's start/end windows) and global_avg_pool2d,
// each with its backward. Max pooling keeps the argmax of every output for its backward.
#include "core/ops/common.h"
#include "kernels/conv.h"

namespace mox {
namespace {

// Output size of one pooled dim, as PyTorch's pooling_output_shape (ceil mode never starts a
// window in the right padding).
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil_mode) {
  int64_t span = in + 2 * p - k;
  int64_t out = (ceil_mode ? span + s - 1 : span) / s + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

void check_pool_input(const char* op, const Tensor& x) {
  check_defined(op, x, "input");
  check_floating(op, x);
  MOX_CHECK_T(ShapeError, x.dim() == 3 || x.dim() == 4, op,
              "input must be 4-d [N, C, H, W] or 3-d [C, H, W], got ", x.str());
}

// The planes of x (all dims but the last two) and the output shape for an oh x ow result.
Pool2dGeom base_geom(const Tensor& x, int64_t oh, int64_t ow, Shape& out_shape) {
  Pool2dGeom g{};
  g.h = x.size(-2);
  g.w = x.size(-1);
  g.planes = shape_numel(Shape(x.sizes().begin(), x.sizes().end() - 2));
  g.oh = oh;
  g.ow = ow;
  out_shape = x.sizes();
  out_shape[out_shape.size() - 2] = oh;
  out_shape.back() = ow;
  return g;
}

Pool2dGeom window_geom(const char* op, const Tensor& x, const Pool2dOptions& o, Shape& out_shape) {
  check_pool_input(op, x);
  int64_t k[2], s[2], out[2];
  for (int i = 0; i < 2; ++i) {
    k[i] = o.kernel[i];
    s[i] = o.stride[i] == 0 ? o.kernel[i] : o.stride[i];
    int64_t in = x.size(x.dim() - 2 + i), p = o.padding[i];
    MOX_CHECK(k[i] >= 1 && s[i] >= 1 && p >= 0, op,
              "kernel and stride must be positive and padding non-negative, got kernel (",
              o.kernel[0], ", ", o.kernel[1], "), stride (", o.stride[0], ", ", o.stride[1],
              "), padding (", o.padding[0], ", ", o.padding[1], ") for input ", x.str());
    MOX_CHECK(2 * p <= k[i], op, "padding ", p, " must be at most half the kernel size ", k[i],
              " (input ", x.str(), ")");
    MOX_CHECK_T(ShapeError, k[i] <= in + 2 * p, op, "kernel (", o.kernel[0], ", ", o.kernel[1],
                ") is larger than the padded input ", x.str(), " (padding (", o.padding[0], ", ",
                o.padding[1], "))");
    out[i] = pooled_size(in, k[i], s[i], p, o.ceil_mode);
  }
  Pool2dGeom g = base_geom(x, out[0], out[1], out_shape);
  g.kh = k[0], g.kw = k[1], g.sh = s[0], g.sw = s[1], g.ph = o.padding[0], g.pw = o.padding[1];
  g.count_include_pad = o.count_include_pad;
  return g;
}

// Average pooling through the avg kernels with geometry g, recorded as op.
Tensor avg_pool_op(const char* op, const Tensor& x, const Pool2dGeom& g, const Shape& out_shape) {
  DType dt = x.dtype(), ct = compute_type(dt);
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor xc = x.to(ct).contiguous();
    out = empty(out_shape, opts(ct, x.device()));
    if (out.numel() > 0 && x.numel() > 0)
      kernel(avg_pool2d_stub, x.device(), op)(ct, g, xc.raw_data(), out.raw_data());
    out = out.to(dt);
  }
  return record_op(op, {x}, out, [op, g, in_shape = x.sizes()](const TensorList& grads, auto&) {
    DType ct = compute_type(grads[0].dtype());
    Tensor gy = grads[0].to(ct).contiguous();
    Tensor gx = zeros(in_shape, opts(ct, gy.device()));
    if (gx.numel() > 0 && gy.numel() > 0)
      kernel(avg_pool2d_backward_stub, gy.device(), op)(ct, g, gy.raw_data(), gx.raw_data());
    return TensorList{gx};
  });
}

}  // namespace

Tensor max_pool2d(const Tensor& x, const Pool2dOptions& o) {
  const char* op = "max_pool2d";
  Shape out_shape;
  Pool2dGeom g = window_geom(op, x, o, out_shape);
  DType dt = x.dtype(), ct = compute_type(dt);
  Tensor out, idx = empty(out_shape, opts(DType::i64, x.device()));
  {
    NoGradGuard no_grad;
    Tensor xc = x.to(ct).contiguous();
    out = empty(out_shape, opts(ct, x.device()));
    if (out.numel() > 0)
      kernel(max_pool2d_stub, x.device(), op)(ct, g, xc.raw_data(), out.raw_data(),
                                              idx.data_ptr<int64_t>());
    out = out.to(dt);
  }
  return record_op(op, {x}, out, [g, idx, in_shape = x.sizes()](const TensorList& grads, auto&) {
    DType ct = compute_type(grads[0].dtype());
    Tensor gy = grads[0].to(ct).contiguous();
    Tensor gx = zeros(in_shape, opts(ct, gy.device()));
    if (gy.numel() > 0)
      kernel(max_pool2d_backward_stub, gy.device(), "max_pool2d")(
          ct, g, gy.raw_data(), idx.data_ptr<int64_t>(), gx.raw_data());
    return TensorList{gx};
  });
}

Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& o) {
  Shape out_shape;
  Pool2dGeom g = window_geom("avg_pool2d", x, o, out_shape);
  return avg_pool_op("avg_pool2d", x, g, out_shape);
}

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_input(op, x);
  MOX_CHECK_T(ShapeError, out_h >= 1 && out_w >= 1, op, "output size must be positive, got (",
              out_h, ", ", out_w, ") for input ", x.str());
  MOX_CHECK_T(ShapeError, x.size(-2) >= 1 && x.size(-1) >= 1, op,
              "input has an empty spatial plane: ", x.str());
  Shape out_shape;
  Pool2dGeom g = base_geom(x, out_h, out_w, out_shape);
  g.adaptive = true;
  return avg_pool_op(op, x, g, out_shape);
}

Tensor global_avg_pool2d(const Tensor& x) {
  const char* op = "global_avg_pool2d";
  check_defined(op, x, "input");
  check_floating(op, x);
  MOX_CHECK_T(ShapeError, x.dim() == 4, op, "input must be 4-d [N, C, H, W], got ", x.str());
  MOX_CHECK_T(ShapeError, x.size(2) >= 1 && x.size(3) >= 1, op,
              "input has an empty spatial plane: ", x.str());
  Shape unused;
  Pool2dGeom g = base_geom(x, 1, 1, unused);
  g.adaptive = true;
  return avg_pool_op(op, x, g, {x.size(0), x.size(1)});
}

}  // namespace mox
