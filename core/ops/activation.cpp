// Activations: each one is a functor in kernels/common/functors.h with its derivative beside it.
#include "core/ops/common.h"
#include "core/ops/elementwise.h"

namespace mox {

Tensor relu(const Tensor& x) { return unary_op(fn::Unary::relu, {}, "relu", x); }
Tensor relu6(const Tensor& x) { return unary_op(fn::Unary::relu6, {}, "relu6", x); }
Tensor leaky_relu(const Tensor& x, double slope) {
  return unary_op(fn::Unary::leaky_relu, {slope}, "leaky_relu", x);
}
Tensor elu(const Tensor& x, double alpha) { return unary_op(fn::Unary::elu, {alpha}, "elu", x); }
Tensor sigmoid(const Tensor& x) { return unary_op(fn::Unary::sigmoid, {}, "sigmoid", x); }
Tensor tanh(const Tensor& x) { return unary_op(fn::Unary::tanh, {}, "tanh", x); }
Tensor gelu(const Tensor& x) { return unary_op(fn::Unary::gelu, {}, "gelu", x); }
Tensor softplus(const Tensor& x) { return unary_op(fn::Unary::softplus, {}, "softplus", x); }

}  // namespace mox
