// Mixed precision's master weights: the manual's mox.var_scope(force_dtype=...) as an RAII
// scope. While a VarScope that forces a dtype is alive on this thread:
//  - parameters and buffers that modules create are stored in the forced dtype, whatever the
//    module's own dtype (Module::to), so a lazily built layer gets f32 master weights too;
//  - layers read each floating parameter in the dtype of their input through read_variable, a
//    differentiable cast, so an f16 input runs the layer in f16 while its gradients land on
//    the f32 parameter (the optimizer then updates the f32 masters).
//
//   Tensor images = raw.to(DType::f16);
//   {
//     nn::VarScope scope({.force_dtype = DType::f32});
//     logits = (*model)(images);        // f16 activations, f32 parameters
//   }
//   loss.backward();                    // parameter grads are f32
//
// Outside a forcing scope, layers use their parameters as they are (an f16 input meeting f32
// parameters then computes in f32, by type promotion). Scopes nest; the innermost one wins,
// and a scope without force_dtype switches forcing off inside it. Batch norm keeps its scale,
// shift and running statistics in their own (f32) dtype and gives the input's dtype back, so it
// does not read through the cast.
#pragma once
#include <optional>

#include "core/tensor.h"

namespace mox::nn {

struct VarScopeOptions {
  std::optional<DType> force_dtype;  // floating dtypes only
};

class VarScope {
 public:
  explicit VarScope(VarScopeOptions options);
  ~VarScope();
  VarScope(const VarScope&) = delete;
  VarScope& operator=(const VarScope&) = delete;

  // The dtype the innermost live scope of this thread forces, if any.
  static std::optional<DType> force_dtype();

 private:
  std::optional<DType> previous_;
};

// The value a layer computes with for parameter p and input x: inside a forcing scope a
// floating p is cast (differentiably) to x's floating dtype; otherwise p itself. Undefined p
// (no bias) stays undefined.
Tensor read_variable(const Tensor& p, const Tensor& x);

}  // namespace mox::nn
