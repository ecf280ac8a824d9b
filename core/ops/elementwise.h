// Building blocks shared by the elementwise and activation families.
#pragma once
#include "core/tensor.h"
#include "kernels/common/functors.h"

namespace mox {

// The kernels alone, no autograd: broadcasting binary map, unary map.
Tensor binary_raw(fn::Binary op, const char* name, const Tensor& a, const Tensor& b);
Tensor unary_raw(fn::Unary op, fn::Params p, const char* name, const Tensor& x);
// The derivative rule alone: the gradient of x given the map's input x, its output y and the
// output gradient g.
Tensor unary_backward_raw(fn::Unary op, fn::Params p, const char* name, const Tensor& x, const Tensor& y,
                          const Tensor& g);
// A unary map recorded for autograd; its backward is the functor's derivative rule.
Tensor unary_op(fn::Unary op, fn::Params p, const char* name, const Tensor& x);

}  // namespace mox
