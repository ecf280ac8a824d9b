// Normalization and regularization: batch_norm (per-channel over [N, C, ...]) and dropout.
// batch_norm computes through the kernels of kernels/norm.h with f64 per-channel statistics;
// its backward is one dedicated kernel (the training formula, or the affine map in eval mode).
// dropout multiplies by a scaled Bernoulli mask drawn from the global Philox generator
// (core/ops/random.h), and its backward multiplies by the same mask.
#include <cmath>

#include "core/ops/common.h"
#include "core/ops/random.h"
#include "kernels/norm.h"

namespace mox {
namespace {

constexpr const char* kBN = "batch_norm";

// A fresh dense f64 copy of a per-channel vector (undefined stays undefined).
Tensor channel_f64(const Tensor& t) {
  if (!t.defined()) return t;
  Tensor r = empty(t.sizes(), opts(DType::f64, t.device()));
  copy_into(r, t);
  return r;
}

const double* f64_ptr(const Tensor& t) {
  return t.defined() ? static_cast<const double*>(t.raw_data()) : nullptr;
}

void check_channel_vector(const Tensor& x, const Tensor& t, const char* what) {
  if (!t.defined()) return;
  check_same_device(kBN, x, t);
  MOX_CHECK_T(TypeError, t.is_floating_point(), kBN, what, " must be floating point, got ",
              t.str(), " for input ", x.str());
  MOX_CHECK_T(ShapeError, t.dim() == 1 && t.size(0) == x.size(1), kBN, what,
              " must have shape [", x.size(1), "] (the channels of input ", x.str(), "), got ",
              t.str());
}

// running = (1 - momentum) * running + momentum * batch, written in place.
void update_running(const Tensor& running, const Tensor& batch, double momentum) {
  NoGradGuard no_grad;
  Tensor updated = add(mul(running.to(DType::f64), 1 - momentum), mul(batch, momentum));
  copy_into(running, updated);
  running.bump_version();
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  check_defined(kBN, x, "input");
  check_floating(kBN, x);
  MOX_CHECK_T(ShapeError, x.dim() >= 2, kBN, "expects input of at least 2 dims [N, C, ...], got ",
              x.str());
  check_channel_vector(x, weight, "weight");
  check_channel_vector(x, bias, "bias");
  check_channel_vector(x, running_mean, "running_mean");
  check_channel_vector(x, running_var, "running_var");
  MOX_CHECK(running_mean.defined() == running_var.defined(), kBN,
            "running_mean and running_var must both be given or both be undefined, got ",
            running_mean.defined() ? running_mean.str() : "undefined", " and ",
            running_var.defined() ? running_var.str() : "undefined");
  MOX_CHECK(training || running_mean.defined(), kBN,
            "eval mode (training = false) needs running_mean and running_var; input ", x.str());
  MOX_CHECK(std::isfinite(eps) && eps >= 0, kBN, "eps must be finite and >= 0, got ", eps);
  MOX_CHECK(std::isfinite(momentum), kBN, "momentum must be finite, got ", momentum);

  BatchNormDims d{x.size(0), x.size(1), 1};
  for (int64_t i = 2; i < x.dim(); ++i) d.s *= x.size(i);
  int64_t count = d.n * d.s;
  MOX_CHECK(!training || count > 1, kBN,
            "training mode needs more than one value per channel, got input ", x.str());

  DType ct = compute_type(x.dtype());
  Tensor mean, var, w = channel_f64(weight), b = channel_f64(bias), y;
  {
    NoGradGuard no_grad;
    Tensor xc = x.to(ct).contiguous();
    if (training) {
      mean = empty({d.c}, opts(DType::f64, x.device()));
      var = empty({d.c}, opts(DType::f64, x.device()));
      kernel(batch_norm_stats_stub, x.device(), kBN)(ct, xc.raw_data(), d,
                                                     static_cast<double*>(mean.raw_data()),
                                                     static_cast<double*>(var.raw_data()));
      if (running_mean.defined()) {
        update_running(running_mean, mean, momentum);
        update_running(running_var, mul(var, double(count) / double(count - 1)), momentum);
      }
    } else {
      mean = channel_f64(running_mean);
      var = channel_f64(running_var);
    }
    y = empty(x.sizes(), opts(ct, x.device()));
    if (y.numel() > 0)
      kernel(batch_norm_apply_stub, x.device(), kBN)(ct, xc.raw_data(), d, f64_ptr(mean),
                                                     f64_ptr(var), eps, f64_ptr(w), f64_ptr(b),
                                                     y.raw_data());
    y = y.to(x.dtype());
  }
  return record_op(kBN, {x, weight, bias}, y,
                   [sx = SavedTensor(x), mean, var, w, d, eps, training, ct](
                       const TensorList& g, const std::vector<bool>& needs) {
                     Tensor xv = sx.unpack(kBN).to(ct).contiguous();
                     Tensor go = g[0].to(ct).contiguous();
                     Device dev = xv.device();
                     Tensor gx, gw, gb;
                     if (needs[0]) gx = empty(xv.sizes(), opts(ct, dev));
                     if (needs[1]) gw = empty({d.c}, opts(DType::f64, dev));
                     if (needs[2]) gb = empty({d.c}, opts(DType::f64, dev));
                     auto ptr = [](const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; };
                     kernel(batch_norm_backward_stub, dev, kBN)(
                         ct, training, go.raw_data(), xv.raw_data(), d, f64_ptr(mean),
                         f64_ptr(var), eps, f64_ptr(w), ptr(gx), static_cast<double*>(ptr(gw)),
                         static_cast<double*>(ptr(gb)));
                     return TensorList{gx, gw, gb};
                   });
}

Tensor dropout(const Tensor& x, double p, bool training) {
  check_defined("dropout", x, "input");
  MOX_CHECK(p >= 0 && p <= 1, "dropout", "probability p must be in [0, 1], got ", p,
            " for input ", x.str());
  check_floating("dropout", x);
  if (!training || p == 0) return x;
  if (p == 1) {
    Tensor out = zeros_like(x);
    return record_op("dropout", {x}, out, [](const TensorList& g, auto&) {
      return TensorList{zeros_like(g[0])};
    });
  }
  DType ct = compute_type(x.dtype());
  Tensor mask = empty(x.sizes(), opts(ct, x.device())), out;
  int64_t n = x.numel();
  if (n > 0)
    kernel(bernoulli_mask_stub, x.device(), "dropout")(ct, mask.raw_data(), n, p, 1 / (1 - p),
                                                       reserve_philox(bernoulli_counters(n)));
  {
    NoGradGuard no_grad;
    out = mul(x.to(ct), mask).to(x.dtype());
  }
  return record_op("dropout", {x}, out, [mask](const TensorList& g, auto&) {
    return TensorList{mul(g[0], mask)};
  });
}

}  // namespace mox
