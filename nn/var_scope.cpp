#include "nn/var_scope.h"

#include "core/ops.h"

namespace mox::nn {
namespace {
thread_local std::optional<DType> current;
}  // namespace

VarScope::VarScope(VarScopeOptions options) : previous_(current) {
  if (options.force_dtype)
    MOX_CHECK_T(TypeError, is_floating(*options.force_dtype), "var_scope",
                "force_dtype must be a floating dtype (f32, f16, bf16, f64), got ",
                dtype_name(*options.force_dtype));
  current = options.force_dtype;
}

VarScope::~VarScope() { current = previous_; }

std::optional<DType> VarScope::force_dtype() { return current; }

Tensor read_variable(const Tensor& p, const Tensor& x) {
  if (!current || !p.defined() || !p.is_floating_point() || !x.is_floating_point() ||
      p.dtype() == x.dtype())
    return p;
  return cast(p, x.dtype());
}

}  // namespace mox::nn
