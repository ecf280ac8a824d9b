#include "core/ops/common.h"

#include "kernels/elementwise.h"

namespace mox {
namespace {

int dtype_rank(DType t) {  // order of widening within a kind
  switch (t) {
    case DType::boolean: return 0;
    case DType::u8: return 1;
    case DType::i32: return 2;
    case DType::i64: return 3;
    case DType::f16: case DType::bf16: return 4;
    case DType::f32: return 5;
    case DType::f64: return 6;
  }
  return 0;
}

}  // namespace

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if ((a == DType::f16 && b == DType::bf16) || (a == DType::bf16 && b == DType::f16))
    return DType::f32;
  return dtype_rank(a) >= dtype_rank(b) ? a : b;
}

DType result_type(const Tensor& a, const Tensor& b) {
  DType ta = a.dtype(), tb = b.dtype();
  bool sa = a.dim() == 0, sb = b.dim() == 0;
  if (sa != sb && is_floating(ta) == is_floating(tb)) return sa ? tb : ta;
  return promote_types(ta, tb);
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  MOX_CHECK_T(DeviceError, a.device() == b.device(), op, "operands are on different devices: ",
              a.str(), " and ", b.str());
}

void check_floating(const char* op, const Tensor& x) {
  MOX_CHECK_T(TypeError, x.is_floating_point(), op, "expects a floating-point tensor, got ",
              x.str());
}

void check_defined(const char* op, const Tensor& x, const char* what) {
  MOX_CHECK(x.defined(), op, what, " is an undefined tensor");
}

Loop make_loop(const Shape& shape, std::initializer_list<const Tensor*> operands) {
  int nd = int(shape.size());
  MOX_CHECK_T(ShapeError, nd <= kMaxDims, "elementwise", "tensors of more than ", kMaxDims,
              " dims are not supported, got shape ", shape_str(shape));
  int nops = int(operands.size());
  // Broadcast strides, right-aligned.
  int64_t st[4][kMaxDims] = {};
  int k = 0;
  for (const Tensor* t : operands) {
    int off = nd - int(t->dim());
    for (int d = 0; d < int(t->dim()); ++d)
      st[k][off + d] = t->sizes()[d] == 1 && shape[off + d] != 1 ? 0 : t->strides()[d];
    ++k;
  }
  Loop loop;
  loop.numel = shape_numel(shape);
  // Merge dim d into the running innermost group when every operand steps through it evenly.
  for (int d = 0; d < nd; ++d) {
    if (shape[d] == 1) continue;
    bool merge = loop.ndim > 0;
    for (int o = 0; o < nops && merge; ++o)
      merge = loop.strides[o][loop.ndim - 1] == st[o][d] * shape[d];
    if (merge) {
      loop.sizes[loop.ndim - 1] *= shape[d];
      for (int o = 0; o < nops; ++o) loop.strides[o][loop.ndim - 1] = st[o][d];
    } else {
      loop.sizes[loop.ndim] = shape[d];
      for (int o = 0; o < nops; ++o) loop.strides[o][loop.ndim] = st[o][d];
      ++loop.ndim;
    }
  }
  loop.contiguous = loop.ndim <= 1;
  for (int o = 0; o < nops && loop.contiguous; ++o)
    loop.contiguous = loop.ndim == 0 || loop.strides[o][0] == 1;
  return loop;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  check_same_device("copy", dst, src);
  Shape shape = broadcast_shapes(dst.sizes(), src.sizes(), "copy");
  MOX_CHECK_T(ShapeError, shape == dst.sizes(), "copy", "cannot copy ", src.str(), " into ",
              dst.str());
  if (dst.numel() == 0) return;
  Loop loop = make_loop(shape, {&dst, &src});
  kernel(copy_stub, dst.device(), "copy")(dst.dtype(), dst.raw_data(), src.dtype(),
                                          src.raw_data(), loop);
}

Tensor& apply_inplace(Tensor& a, const char* name, const std::function<Tensor(const Tensor&)>& op) {
  if (!needs_grad({&a})) {
    Tensor r = op(a);
    MOX_CHECK_T(ShapeError, r.sizes() == a.sizes(), name, "result shape ", shape_str(r.sizes()),
                " cannot be written into ", a.str());
    if (r.requires_grad()) {
      // a did not require grad but the other operand does: a takes r's history.
      MOX_CHECK_T(AutogradError, !a.impl()->is_view, name,
                  "in-place op with a grad-requiring operand on a view ", a.str());
      { NoGradGuard g; copy_into(a, r); }
      a.bump_version();
      if (!a.impl()->autograd) a.impl()->autograd = std::make_unique<AutogradMeta>();
      *a.impl()->autograd = AutogradMeta{};
      a.impl()->autograd->requires_grad = true;
      a.impl()->autograd->grad_fn = r.impl()->autograd->grad_fn;
      a.impl()->autograd->output_nr = r.impl()->autograd->output_nr;
      return a;
    }
    copy_into(a, r);
    a.bump_version();
    return a;
  }
  MOX_CHECK_T(AutogradError, !a.is_leaf(), name,
              "a leaf tensor that requires grad is used in an in-place op: ", a.str());
  MOX_CHECK_T(AutogradError, !a.impl()->is_view, name,
              "in-place op on a view of a tensor that requires grad: ", a.str(),
              "; use the out-of-place op");
  // Run the op on a copy so its saved tensors do not see the overwrite, then move its
  // history onto a.
  Tensor r = op(a.clone());
  MOX_CHECK_T(ShapeError, r.sizes() == a.sizes(), name, "result shape ", shape_str(r.sizes()),
              " cannot be written into ", a.str());
  { NoGradGuard g; copy_into(a, r); }
  a.bump_version();
  a.impl()->autograd->grad_fn = r.impl()->autograd->grad_fn;
  a.impl()->autograd->output_nr = r.impl()->autograd->output_nr;
  return a;
}

}  // namespace mox
