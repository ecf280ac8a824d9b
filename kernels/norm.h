// Batch-norm kernel family. The input is dense and viewed as [n, c, s] (s: the product of the
// dims after the channel dim, 1 for 2-d input); statistics are per channel over n and s. Per-
// channel vectors (mean, biased variance, weight, bias and their gradients) are f64 whatever
// the input dtype, so f32 statistics are accumulated and kept in double precision.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

struct BatchNormDims {
  int64_t n = 0, c = 0, s = 0;
};

// mean[c] and the biased var[c] of x.
using BatchNormStatsFn = void(DType, const void* x, BatchNormDims, double* mean, double* var);
// y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]; weight, bias may be null
// (1 and 0).
using BatchNormApplyFn = void(DType, const void* x, BatchNormDims, const double* mean,
                              const double* var, double eps, const double* weight,
                              const double* bias, void* y);
// Gradients of batch_norm given grad_out. training: mean and var are the batch statistics of x
// (they depend on x); otherwise they are constants (running statistics) and y is affine in x.
// Any of grad_x, grad_weight, grad_bias may be null (not wanted); weight may be null.
using BatchNormBackwardFn = void(DType, bool training, const void* grad_out, const void* x,
                                 BatchNormDims, const double* mean, const double* var,
                                 double eps, const double* weight, void* grad_x,
                                 double* grad_weight, double* grad_bias);

MOX_STUB(batch_norm_stats_stub, BatchNormStatsFn);
MOX_STUB(batch_norm_apply_stub, BatchNormApplyFn);
MOX_STUB(batch_norm_backward_stub, BatchNormBackwardFn);

}  // namespace mox
