// Softmax and losses: softmax / log_softmax over any dim, nll_loss, cross_entropy (class-index
// or probability targets, label smoothing as torch.nn.functional.cross_entropy), mse_loss,
// and the non-differentiable one_hot and in_top_k. Kernels (kernels/softmax.h) see dense
// [rows, cols] buffers: the reduced or class dim is swapped to the end here and back after.
// f16/bf16 inputs compute in f32 and return their own dtype.
#include <cmath>

#include "core/ops/common.h"
#include "kernels/softmax.h"

namespace mox {
namespace {

// x with dim d swapped to the end, dense, in dtype ct (no autograd).
Tensor to_rows(const Tensor& x, int64_t d, DType ct) {
  NoGradGuard no_grad;
  Tensor t = x.to(ct);
  if (t.dim() > 1 && d != t.dim() - 1) t = t.transpose(d, -1);
  return t.contiguous();
}

// The inverse of to_rows for a result shaped like the swapped input.
Tensor from_rows(const Tensor& r, int64_t d) {
  NoGradGuard no_grad;
  if (r.dim() > 1 && d != r.dim() - 1) return r.transpose(d, -1).contiguous();
  return r;
}

bool is_index_dtype(DType t) { return t == DType::i32 || t == DType::i64; }

void check_index_dtype(const char* op, const Tensor& t, const char* what) {
  MOX_CHECK_T(TypeError, is_index_dtype(t.dtype()), op, what, " must hold class indices as i64 ",
              "or i32, got ", t.str());
}

Tensor softmax_backward_raw(const Tensor& y, const Tensor& g, int64_t d, bool log,
                            const char* name) {
  DType ct = compute_type(y.dtype());
  Tensor yr = to_rows(y, d, ct), gr = to_rows(g, d, ct);
  Tensor gi = empty(yr.sizes(), opts(ct, y.device()));
  if (gi.numel() > 0) {
    int64_t cols = y.dim() ? y.sizes()[size_t(d)] : 1;
    kernel(softmax_backward_stub, y.device(), name)(ct, gi.raw_data(), yr.raw_data(),
                                                    gr.raw_data(), gi.numel() / cols, cols, log);
  }
  return from_rows(gi, d);
}

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, const char* name) {
  check_defined(name, x, "input");
  check_floating(name, x);
  int64_t d = wrap_dim(dim, x.dim(), name);
  Tensor out;
  {
    NoGradGuard no_grad;
    DType ct = compute_type(x.dtype());
    Tensor xr = to_rows(x, d, ct);
    Tensor yr = empty(xr.sizes(), opts(ct, x.device()));
    if (yr.numel() > 0) {
      int64_t cols = x.dim() ? x.sizes()[size_t(d)] : 1;
      kernel(softmax_stub, x.device(), name)(ct, yr.raw_data(), xr.raw_data(), yr.numel() / cols,
                                             cols, log);
    }
    out = from_rows(yr, d).to(x.dtype());
  }
  return record_op(name, {x}, out, [d, log, name, sy = SavedTensor(out)](const TensorList& g, auto&) {
    return TensorList{softmax_backward_raw(sy.unpack(name), g[0], d, log, name)};
  });
}

// The class dim of a loss input: 0 for [C], 1 for [N, C, d1, ...].
int64_t class_dim(const Tensor& x) { return x.dim() == 1 ? 0 : 1; }

// The target shape class-index losses expect: the input's shape without the class dim.
Shape index_target_shape(const Tensor& x) {
  Shape s = x.sizes();
  s.erase(s.begin() + class_dim(x));
  return s;
}

// Per-element negative log-likelihood -log_probs[..., target, ...] over the class dim, shaped
// like target; op names the caller in errors.
Tensor nll_elements(const Tensor& log_probs, const Tensor& target, const char* op) {
  check_defined(op, log_probs, "input");
  check_defined(op, target, "target");
  check_floating(op, log_probs);
  check_index_dtype(op, target, "target");
  check_same_device(op, log_probs, target);
  MOX_CHECK_T(ShapeError, log_probs.dim() >= 1, op, "input must have a class dim ([C], [N, C] ",
              "or [N, C, d1, ...]), got ", log_probs.str());
  Shape want = index_target_shape(log_probs);
  MOX_CHECK_T(ShapeError, target.sizes() == want, op, "target ", target.str(),
              " does not match input ", log_probs.str(), ": expected target shape ",
              shape_str(want));
  int64_t cd = class_dim(log_probs), classes = log_probs.sizes()[size_t(cd)];
  Tensor tg = target.contiguous();
  Tensor out;
  {
    NoGradGuard no_grad;
    DType ct = compute_type(log_probs.dtype());
    Tensor lr = to_rows(log_probs, cd, ct);
    out = empty(want, opts(ct, log_probs.device()));
    if (out.numel() > 0) {
      MOX_CHECK_T(ShapeError, classes > 0, op, "input ", log_probs.str(), " has no classes");
      int64_t bad = kernel(nll_stub, log_probs.device(), op)(ct, out.raw_data(), lr.raw_data(),
                                                            tg.dtype(), tg.raw_data(),
                                                            out.numel(), classes);
      MOX_CHECK_T(IndexError, bad < 0, op, "target ",
                  int64_t(bad < 0 ? 0 : tg.reshape({-1})[bad].item()), " at position ", bad,
                  " is out of range for ", classes, " classes (input ", log_probs.str(),
                  ", target ", target.str(), ")");
    }
    out = out.to(log_probs.dtype());
  }
  Shape moved = log_probs.sizes();
  if (log_probs.dim() > 1) std::swap(moved[size_t(cd)], moved.back());
  return record_op(op, {log_probs}, out,
                   [op, cd, classes, moved, st = SavedTensor(tg)](const TensorList& g, auto&) {
                     Tensor t = st.unpack(op);
                     DType ct = compute_type(g[0].dtype());
                     Tensor gc = g[0].to(ct).contiguous();
                     int64_t rows = t.numel();
                     Tensor gi = empty({rows, classes}, opts(ct, gc.device()));
                     if (gi.numel() > 0)
                       kernel(nll_backward_stub, gc.device(), op)(ct, gi.raw_data(), gc.raw_data(),
                                                                  t.dtype(), t.raw_data(), rows,
                                                                  classes);
                     return TensorList{from_rows(gi.reshape(moved), cd)};
                   });
}

Tensor reduce_loss(const Tensor& per, Reduction r) {
  switch (r) {
    case Reduction::none: return per;
    case Reduction::sum: return sum(per);
    case Reduction::mean: return mean(per);
  }
  return per;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true, "log_softmax");
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r) {
  return reduce_loss(nll_elements(log_probs, target, "nll_loss"), r);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r,
                     double label_smoothing) {
  const char* op = "cross_entropy";
  check_defined(op, logits, "input");
  check_defined(op, target, "target");
  check_floating(op, logits);
  check_same_device(op, logits, target);
  MOX_CHECK(label_smoothing >= 0 && label_smoothing <= 1, op,
            "label_smoothing must be in [0, 1], got ", label_smoothing);
  MOX_CHECK_T(ShapeError, logits.dim() >= 1, op, "input must have a class dim ([C], [N, C] ",
              "or [N, C, d1, ...]), got ", logits.str());
  int64_t cd = class_dim(logits);
  double classes = double(logits.sizes()[size_t(cd)]);
  DType ct = compute_type(logits.dtype());
  Tensor lp = log_softmax(logits.to(ct), cd);
  Tensor per;
  if (target.is_floating_point()) {
    MOX_CHECK_T(ShapeError, target.sizes() == logits.sizes(), op, "probability target ",
                target.str(), " does not match input ", logits.str(),
                " (class-index targets must be i64 or i32)");
    Tensor t = target.to(ct);
    if (label_smoothing > 0) t = add(mul(t, 1 - label_smoothing), label_smoothing / classes);
    per = neg(sum(mul(lp, t), {cd}));
  } else {
    per = nll_elements(lp, target, op);
    if (label_smoothing > 0) {
      Tensor smooth = neg(sum(lp, {cd}));
      per = add(mul(per, 1 - label_smoothing), mul(smooth, label_smoothing / classes));
    }
  }
  return reduce_loss(per, r).to(logits.dtype());
}

Tensor mse_loss(const Tensor& x, const Tensor& target, Reduction r) {
  const char* op = "mse_loss";
  check_defined(op, x, "input");
  check_defined(op, target, "target");
  check_floating(op, x);
  check_floating(op, target);
  check_same_device(op, x, target);
  MOX_CHECK_T(ShapeError, x.sizes() == target.sizes(), op, "target ", target.str(),
              " does not match input ", x.str(), " (shapes must be equal)");
  DType dt = result_type(x, target), ct = compute_type(dt);
  Tensor d = sub(x.to(ct), target.to(ct));
  return reduce_loss(mul(d, d), r).to(dt);
}

Tensor one_hot(const Tensor& indices, int64_t num_classes, DType dtype) {
  const char* op = "one_hot";
  check_defined(op, indices, "indices");
  MOX_CHECK_T(TypeError, is_index_dtype(indices.dtype()) || indices.dtype() == DType::u8, op,
              "indices must be an integer tensor (i64, i32 or u8), got ", indices.str());
  Tensor idx = indices.dtype() == DType::u8 ? indices.to(DType::i64) : indices.contiguous();
  if (num_classes == -1) {
    MOX_CHECK(idx.numel() > 0, op, "cannot infer num_classes from empty indices ", indices.str());
    int64_t top = 0;
    for (double v : idx.tolist()) top = std::max(top, int64_t(v));
    num_classes = top + 1;
  }
  MOX_CHECK(num_classes >= 1, op, "num_classes must be positive (or -1 to infer it), got ",
            num_classes, " for indices ", indices.str());
  Shape shape = indices.sizes();
  shape.push_back(num_classes);
  Tensor out = empty(shape, opts(dtype, indices.device()));
  if (out.numel() == 0) return out;
  int64_t bad = kernel(one_hot_stub, indices.device(), op)(dtype, out.raw_data(), idx.dtype(),
                                                         idx.raw_data(), idx.numel(), num_classes);
  MOX_CHECK_T(IndexError, bad < 0, op, "index ",
              int64_t(bad < 0 ? 0 : idx.reshape({-1})[bad].item()), " at position ", bad,
              " is out of range for num_classes ", num_classes, " (indices ", indices.str(), ")");
  return out;
}

Tensor in_top_k(const Tensor& predictions, const Tensor& targets, int64_t k) {
  const char* op = "in_top_k";
  check_defined(op, predictions, "predictions");
  check_defined(op, targets, "targets");
  check_floating(op, predictions);
  check_index_dtype(op, targets, "targets");
  check_same_device(op, predictions, targets);
  MOX_CHECK_T(ShapeError, predictions.dim() == 2, op, "predictions must be [N, C], got ",
              predictions.str());
  MOX_CHECK_T(ShapeError, targets.dim() == 1 && targets.sizes()[0] == predictions.sizes()[0], op,
              "targets ", targets.str(), " do not match predictions ", predictions.str(),
              ": expected targets of shape [", predictions.sizes()[0], "]");
  MOX_CHECK(k >= 1, op, "k must be at least 1, got ", k, " (predictions ", predictions.str(), ")");
  NoGradGuard no_grad;
  DType ct = compute_type(predictions.dtype());
  Tensor p = predictions.to(ct).contiguous(), t = targets.contiguous();
  Tensor out = empty({predictions.sizes()[0]}, opts(DType::boolean, predictions.device()));
  if (out.numel() == 0) return out;
  kernel(in_top_k_stub, predictions.device(), op)(ct, static_cast<bool*>(out.raw_data()),
                                                  p.raw_data(), t.dtype(), t.raw_data(),
                                                  p.sizes()[0], p.sizes()[1], k);
  return out;
}

}  // namespace mox
