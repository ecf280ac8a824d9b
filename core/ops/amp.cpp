// Loss-scaling support for mixed precision (nn/loss_scale.h): unscale_ divides a gradient by
// the loss scale in place and reports whether it is finite, in one pass (kernels/amp.h).
#include "core/ops/common.h"
#include "kernels/amp.h"

namespace mox {

bool unscale_(const Tensor& grad, double factor) {
  const char* op = "unscale_";
  check_defined(op, grad, "gradient");
  check_floating(op, grad);
  if (grad.numel() == 0) return true;
  NoGradGuard no_grad;
  Tensor dense = grad.is_contiguous() ? grad : grad.contiguous();
  bool finite = kernel(unscale_stub, grad.device(), op)(dense.dtype(), dense.raw_data(),
                                                        dense.numel(), factor);
  if (!dense.is_same(grad)) copy_into(grad, dense);
  grad.bump_version();
  return finite;
}

}  // namespace mox
