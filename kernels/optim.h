// Fused optimizer updates: one pass over a dense parameter, its gradient and the rule's two
// slots instead of a tensor op (and a temporary) per term. Rules: kernels/common/update_rules.h.
// A device without this kernel runs the rules as tensor ops (nn/optim/optimizer.cpp).
#pragma once
#include "kernels/dispatch.h"

namespace mox {

enum class UpdateRule { momentum, nesterov, adadelta, adam };

// The rule's constants: momentum/nesterov: a = momentum; adadelta: a = rho, eps; adam: a = beta1,
// b = beta2, eps, and lr is the bias-corrected step size.
struct UpdateArgs {
  double lr = 0, a = 0, b = 0, eps = 0;
};

// w, g, s0, s1: n elements of dtype (f32 or f64); s1 unused by momentum and nesterov.
using OptimizerUpdateFn = void(UpdateRule, DType, int64_t n, void* w, const void* g, void* s0, void* s1,
                               const UpdateArgs&);
MOX_STUB(optimizer_update_stub, OptimizerUpdateFn);

}  // namespace mox
