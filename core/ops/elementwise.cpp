// Elementwise ops: binary arithmetic with broadcasting, comparisons, where, the unary math
// functions and their in-place forms. Unary derivatives come from the functor table
// (kernels/common/functors.h); binary ones are written here with ops.
#include "core/ops/elementwise.h"

#include "core/ops/common.h"
#include "kernels/elementwise.h"

namespace mox {

// ---- raw compute (no autograd)

Tensor binary_raw(fn::Binary op, const char* name, const Tensor& a, const Tensor& b) {
  check_defined(name, a, "first operand");
  check_defined(name, b, "second operand");
  check_same_device(name, a, b);
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  DType dt = result_type(a, b), ct = compute_type(dt);
  NoGradGuard no_grad;
  Tensor ac = a.to(ct), bc = b.to(ct);
  Tensor out = empty(shape, opts(fn::is_comparison(op) ? DType::boolean : ct, a.device()));
  if (out.numel() == 0) return out;
  Loop loop = make_loop(shape, {&out, &ac, &bc});
  kernel(binary_stub, a.device(), name)(op, ct, out.raw_data(), ac.raw_data(), bc.raw_data(), loop);
  return out.dtype() == DType::boolean ? out : out.to(dt);
}

Tensor unary_raw(fn::Unary op, fn::Params p, const char* name, const Tensor& x) {
  check_defined(name, x, "input");
  NoGradGuard no_grad;
  DType ct = compute_type(x.dtype());
  Tensor xc = x.to(ct);
  Tensor out = empty(x.sizes(), opts(ct, x.device()));
  if (out.numel() == 0) return out;
  Loop loop = make_loop(x.sizes(), {&out, &xc});
  kernel(unary_stub, x.device(), name)(op, p, ct, out.raw_data(), xc.raw_data(), loop);
  return out.to(x.dtype());
}

// grad_in = g * f'(x) through the functor's derivative rule.
Tensor unary_backward_raw(fn::Unary op, fn::Params p, const char* name, const Tensor& x, const Tensor& y,
                          const Tensor& g) {
  DType ct = compute_type(x.dtype());
  Tensor xc = x.to(ct).contiguous(), yc = y.to(ct).contiguous(), gc = g.to(ct).contiguous();
  Tensor out = empty(x.sizes(), opts(ct, x.device()));
  if (out.numel() == 0) return out;
  kernel(unary_backward_stub, x.device(), name)(op, p, ct, out.raw_data(), xc.raw_data(),
                                                yc.raw_data(), gc.raw_data(), out.numel());
  return out;
}

static bool allows_integers(fn::Unary op) {
  using U = fn::Unary;
  return op == U::neg || op == U::abs || op == U::relu || op == U::relu6 || op == U::clamp ||
         op == U::add_scalar || op == U::mul_scalar;
}

Tensor unary_op(fn::Unary op, fn::Params p, const char* name, const Tensor& x) {
  check_defined(name, x, "input");
  if (!allows_integers(op)) check_floating(name, x);
  Tensor out = unary_raw(op, p, name, x);
  if (!needs_grad({&x})) return out;
  // Keep only what the derivative reads; a stand-in of the same shape fills the other slots.
  char saves = fn::unary_saves(op);
  SavedTensor sx(saves == 'x' || saves == 'b' ? x : Tensor());
  SavedTensor sy(saves == 'y' || saves == 'b' ? out : Tensor());
  return record_op(name, {x}, out, [op, p, name, sx, sy](const TensorList& g, auto&) {
    Tensor xv = sx.defined() ? sx.unpack(name) : g[0];
    Tensor yv = sy.defined() ? sy.unpack(name) : g[0];
    return TensorList{unary_backward_raw(op, p, name, xv, yv, g[0])};
  });
}

// ---- binary arithmetic

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  Tensor bb = alpha == 1 ? b : mul(b, alpha);
  Tensor out = binary_raw(fn::Binary::add, "add", a, bb);
  return record_op("add", {a, bb}, out, [](const TensorList& g, auto&) {
    return TensorList{g[0], g[0]};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(fn::Binary::sub, "sub", a, b);
  return record_op("sub", {a, b}, out, [](const TensorList& g, auto&) {
    return TensorList{g[0], neg(g[0])};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(fn::Binary::mul, "mul", a, b);
  return record_op("mul", {a, b}, out,
                   [sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g, const auto& needs) {
                     return TensorList{needs[0] ? mul(g[0], sb.unpack("mul")) : Tensor(),
                                       needs[1] ? mul(g[0], sa.unpack("mul")) : Tensor()};
                   });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(fn::Binary::div, "div", a, b);
  return record_op("div", {a, b}, out,
                   [sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g, const auto& needs) {
                     Tensor bv = sb.unpack("div");
                     Tensor ga = div(g[0], bv);
                     return TensorList{ga, needs[1] ? neg(mul(ga, div(sa.unpack("div"), bv))) : Tensor()};
                   });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(fn::Binary::pow, "pow", a, b);
  return record_op("pow", {a, b}, out,
                   [sa = SavedTensor(a), sb = SavedTensor(b), so = SavedTensor(out)](
                       const TensorList& g, const auto& needs) {
                     Tensor av = sa.unpack("pow"), bv = sb.unpack("pow");
                     Tensor ga, gb;
                     if (needs[0]) ga = mul(g[0], mul(bv, pow(av, sub(bv, ones_like(bv)))));
                     if (needs[1]) gb = mul(g[0], mul(so.unpack("pow"), log(av)));
                     return TensorList{ga, gb};
                   });
}

// maximum/minimum: the gradient goes to the chosen operand, split evenly on ties.
static Tensor extremum(fn::Binary op, const char* name, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, name, a, b);
  return record_op(name, {a, b}, out,
                   [op, name, sa = SavedTensor(a), sb = SavedTensor(b)](const TensorList& g, auto&) {
                     Tensor av = sa.unpack(name), bv = sb.unpack(name);
                     Tensor wins = (op == fn::Binary::maximum ? gt(av, bv) : lt(av, bv)).to(g[0].dtype());
                     Tensor ties = eq(av, bv).to(g[0].dtype());
                     Tensor share = add(wins, mul(ties, 0.5));
                     Tensor ga = mul(g[0], share);
                     return TensorList{ga, sub(g[0], ga)};
                   });
}
Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(fn::Binary::maximum, "maximum", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(fn::Binary::minimum, "minimum", a, b); }

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::eq, "eq", a, b); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::ne, "ne", a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::lt, "lt", a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::le, "le", a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::gt, "gt", a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_raw(fn::Binary::ge, "ge", a, b); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined("where", cond, "condition");
  MOX_CHECK_T(TypeError, cond.dtype() == DType::boolean, "where", "condition must be bool, got ",
              cond.str());
  check_same_device("where", cond, a);
  check_same_device("where", a, b);
  Shape shape = broadcast_shapes(cond.sizes(), broadcast_shapes(a.sizes(), b.sizes(), "where"), "where");
  DType dt = result_type(a, b), ct = compute_type(dt);
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor ac = a.to(ct), bc = b.to(ct);
    out = empty(shape, opts(ct, a.device()));
    if (out.numel() > 0) {
      Loop loop = make_loop(shape, {&out, &cond, &ac, &bc});
      kernel(where_stub, a.device(), "where")(ct, out.raw_data(), static_cast<const bool*>(cond.raw_data()),
                                              ac.raw_data(), bc.raw_data(), loop);
    }
    out = out.to(dt);
  }
  return record_op("where", {a, b}, out, [sc = SavedTensor(cond)](const TensorList& g, auto&) {
    Tensor c = sc.unpack("where"), z = zeros({}, opts(g[0].dtype(), g[0].device()));
    return TensorList{where(c, g[0], z), where(c, z, g[0])};
  });
}

// ---- scalar forms and unary math

Tensor add(const Tensor& a, double b) { return unary_op(fn::Unary::add_scalar, {b}, "add_scalar", a); }
Tensor mul(const Tensor& a, double b) { return unary_op(fn::Unary::mul_scalar, {b}, "mul_scalar", a); }
Tensor pow(const Tensor& a, double e) { return unary_op(fn::Unary::pow_scalar, {e}, "pow_scalar", a); }
Tensor neg(const Tensor& x) { return unary_op(fn::Unary::neg, {}, "neg", x); }
Tensor exp(const Tensor& x) { return unary_op(fn::Unary::exp, {}, "exp", x); }
Tensor log(const Tensor& x) { return unary_op(fn::Unary::log, {}, "log", x); }
Tensor sqrt(const Tensor& x) { return unary_op(fn::Unary::sqrt, {}, "sqrt", x); }
Tensor rsqrt(const Tensor& x) { return unary_op(fn::Unary::rsqrt, {}, "rsqrt", x); }
Tensor abs(const Tensor& x) { return unary_op(fn::Unary::abs, {}, "abs", x); }
Tensor clamp(const Tensor& x, double lo, double hi) {
  MOX_CHECK(lo <= hi, "clamp", "min ", lo, " is greater than max ", hi);
  return unary_op(fn::Unary::clamp, {lo, hi}, "clamp", x);
}

// ---- in place

static Tensor& inplace_binary(Tensor& a, const Tensor& b, const char* name,
                              Tensor (*op)(const Tensor&, const Tensor&)) {
  check_defined(name, a, "destination");
  Shape shape = broadcast_shapes(a.sizes(), b.sizes(), name);
  MOX_CHECK_T(ShapeError, shape == a.sizes(), name, "cannot broadcast ", b.str(),
              " into the destination ", a.str());
  return apply_inplace(a, name, [&](const Tensor& self) { return op(self, b); });
}

Tensor& add_(Tensor& a, const Tensor& b, double alpha) {
  if (alpha == 1) return inplace_binary(a, b, "add_", [](const Tensor& x, const Tensor& y) { return add(x, y); });
  Tensor scaled = mul(b, alpha);
  return inplace_binary(a, scaled, "add_", [](const Tensor& x, const Tensor& y) { return add(x, y); });
}
Tensor& sub_(Tensor& a, const Tensor& b) { return inplace_binary(a, b, "sub_", &sub); }
Tensor& mul_(Tensor& a, const Tensor& b) { return inplace_binary(a, b, "mul_", &mul); }
Tensor& div_(Tensor& a, const Tensor& b) { return inplace_binary(a, b, "div_", &div); }

}  // namespace mox
