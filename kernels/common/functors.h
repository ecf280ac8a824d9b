// Elementwise math, written once for every backend. Each unary functor carries its forward
// `f(x)` and its derivative rule `df(x, y, g)` (x: input, y: forward output, g: incoming
// gradient) side by side; binary functors compute a value from two operands. The CPU loops
// (kernels/cpu/elementwise.cpp) and the CUDA kernels (kernels/cuda/elementwise.cu) both
// instantiate these structs.
#pragma once
#include <cmath>

#include "kernels/common/hd.h"

namespace mox::fn {

// Parameters for the functors that take them (leaky_relu's slope, clamp's bounds, ...).
struct Params {
  double a = 0, b = 0;
};

// The math functions the functors call, usable on host and device alike: float and double go
// to <cmath>'s overloads (CUDA supplies device versions of those); other arithmetic types widen
// to double, as <cmath>'s integer overloads do on the host (those have no device version).
namespace math {
#define MOX_MATH1(NAME)                                                         \
  MOX_HD float NAME(float x) { return std::NAME(x); }                           \
  MOX_HD double NAME(double x) { return std::NAME(x); }                         \
  template <class T> MOX_HD double NAME(T x) { return std::NAME(double(x)); }
MOX_MATH1(exp)
MOX_MATH1(log)
MOX_MATH1(log1p)
MOX_MATH1(sqrt)
MOX_MATH1(tanh)
MOX_MATH1(erf)
#undef MOX_MATH1
MOX_HD float pow(float a, float b) { return std::pow(a, b); }
MOX_HD double pow(double a, double b) { return std::pow(a, b); }
template <class T> MOX_HD double pow(T a, T b) { return std::pow(double(a), double(b)); }
}  // namespace math

// SAVES says what the derivative reads: 0 nothing, 'x' the input, 'y' the output, 'b' both;
// autograd keeps only that, so an in-place write to what is not needed stays legal.
#define MOX_UNARY(NAME, SAVES, FWD, BWD)                                            \
  struct NAME {                                                                     \
    static constexpr char saves = SAVES;                                            \
    Params p;                                                                       \
    template <class T> MOX_HD T f(T x) const { (void)p; return FWD; }               \
    template <class T> MOX_HD T df(T x, T y, T g) const {                           \
      (void)x; (void)y; (void)p;                                                    \
      return BWD;                                                                   \
    }                                                                               \
  };

template <class T> MOX_HD T sigmoid_of(T x) { return T(1) / (T(1) + math::exp(-x)); }
// softplus written to neither overflow for large x nor lose precision for very negative x.
template <class T> MOX_HD T softplus_of(T x) {
  return x > T(0) ? x + math::log1p(math::exp(-x)) : math::log1p(math::exp(x));
}
// gelu, exact form: x * Phi(x).
template <class T> MOX_HD T gelu_of(T x) { return T(0.5) * x * (T(1) + math::erf(x * T(M_SQRT1_2))); }
template <class T> MOX_HD T gelu_grad(T x) {
  T cdf = T(0.5) * (T(1) + math::erf(x * T(M_SQRT1_2)));
  T pdf = math::exp(T(-0.5) * x * x) * T(0.3989422804014327);
  return cdf + x * pdf;
}

// name       saves  forward                              derivative (times g)
MOX_UNARY(Neg, 0,       -x,                                  -g)
MOX_UNARY(Exp, 'y',       math::exp(x),                        g * y)
MOX_UNARY(Log, 'x',       math::log(x),                        g / x)
MOX_UNARY(Sqrt, 'y',      math::sqrt(x),                       g / (T(2) * y))
MOX_UNARY(Rsqrt, 'y',     T(1) / math::sqrt(x),                T(-0.5) * g * y * y * y)
MOX_UNARY(Abs, 'x',       x < T(0) ? -x : x,                   x > T(0) ? g : (x < T(0) ? -g : T(0)))
MOX_UNARY(Relu, 'y',      x > T(0) ? x : T(0),                 y > T(0) ? g : T(0))
MOX_UNARY(Relu6, 'y',     x > T(0) ? (x < T(6) ? x : T(6)) : T(0), (y > T(0) && y < T(6)) ? g : T(0))
MOX_UNARY(LeakyRelu, 'x', x > T(0) ? x : T(p.a) * x,           x > T(0) ? g : T(p.a) * g)
MOX_UNARY(Elu, 'b',       x > T(0) ? x : T(p.a) * (math::exp(x) - T(1)), x > T(0) ? g : g * (y + T(p.a)))
MOX_UNARY(Sigmoid, 'y',   sigmoid_of(x),                       g * y * (T(1) - y))
MOX_UNARY(Tanh, 'y',      math::tanh(x),                       g * (T(1) - y * y))
MOX_UNARY(Gelu, 'x',      gelu_of(x),                          g * gelu_grad(x))
MOX_UNARY(Softplus, 'x',  softplus_of(x),                      g * sigmoid_of(x))
MOX_UNARY(Clamp, 'x',     x < T(p.a) ? T(p.a) : (x > T(p.b) ? T(p.b) : x), (x >= T(p.a) && x <= T(p.b)) ? g : T(0))
MOX_UNARY(PowScalar, 'x', math::pow(x, T(p.a)),                g * T(p.a) * math::pow(x, T(p.a - 1)))
MOX_UNARY(AddScalar, 0, x + T(p.a),                          g)
MOX_UNARY(MulScalar, 0, x * T(p.a),                          g * T(p.a))
#undef MOX_UNARY

// The table every layer enumerates: enum value, functor, name.
#define MOX_UNARY_OPS(X)                                                         \
  X(neg, Neg) X(exp, Exp) X(log, Log) X(sqrt, Sqrt) X(rsqrt, Rsqrt) X(abs, Abs)  \
  X(relu, Relu) X(relu6, Relu6) X(leaky_relu, LeakyRelu) X(elu, Elu)             \
  X(sigmoid, Sigmoid) X(tanh, Tanh) X(gelu, Gelu) X(softplus, Softplus)          \
  X(clamp, Clamp) X(pow_scalar, PowScalar) X(add_scalar, AddScalar)              \
  X(mul_scalar, MulScalar)

enum class Unary {
#define MOX_X(name, F) name,
  MOX_UNARY_OPS(MOX_X)
#undef MOX_X
};

// Binary functors: value only; core/ops/elementwise.cpp writes their gradients with ops.
#define MOX_BINARY(NAME, EXPR) \
  struct NAME {                \
    template <class T> MOX_HD T operator()(T a, T b) const { return EXPR; } \
  };
MOX_BINARY(Add, a + b)
MOX_BINARY(Sub, a - b)
MOX_BINARY(Mul, a * b)
MOX_BINARY(Div, a / b)
MOX_BINARY(Pow, T(math::pow(a, b)))
MOX_BINARY(Maximum, a > b || a != a ? a : b)
MOX_BINARY(Minimum, a < b || a != a ? a : b)
MOX_BINARY(Eq, T(a == b))
MOX_BINARY(Ne, T(a != b))
MOX_BINARY(Lt, T(a < b))
MOX_BINARY(Le, T(a <= b))
MOX_BINARY(Gt, T(a > b))
MOX_BINARY(Ge, T(a >= b))
#undef MOX_BINARY

#define MOX_BINARY_OPS(X)                                                              \
  X(add, Add) X(sub, Sub) X(mul, Mul) X(div, Div) X(pow, Pow) X(maximum, Maximum)      \
  X(minimum, Minimum) X(eq, Eq) X(ne, Ne) X(lt, Lt) X(le, Le) X(gt, Gt) X(ge, Ge)

enum class Binary {
#define MOX_X(name, F) name,
  MOX_BINARY_OPS(MOX_X)
#undef MOX_X
};

inline constexpr char unary_saves(Unary op) {
  switch (op) {
#define MOX_X(name, F) case Unary::name: return F::saves;
    MOX_UNARY_OPS(MOX_X)
#undef MOX_X
  }
  return 'b';
}

inline constexpr bool is_comparison(Binary op) { return op >= Binary::eq; }

}  // namespace mox::fn
