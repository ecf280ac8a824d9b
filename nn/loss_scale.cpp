#include "nn/loss_scale.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/ops.h"

namespace mox::nn {

LossScaler LossScaler::fixed(double scale) {
  MOX_CHECK(std::isfinite(scale) && scale > 0, "LossScaler", "a static loss scale must be a positive number, got ",
            scale);
  LossScaler s;
  s.dynamic_ = false;
  s.scale_ = scale;
  return s;
}

LossScaler LossScaler::dynamic(DynamicLossScaleOptions o) {
  const char* op = "LossScaler";
  MOX_CHECK(std::isfinite(o.min_scale) && o.min_scale > 0, op, "min_scale must be positive, got ", o.min_scale);
  MOX_CHECK(std::isfinite(o.max_scale) && o.max_scale >= o.min_scale, op, "max_scale ", o.max_scale,
            " is below min_scale ", o.min_scale);
  MOX_CHECK(o.init_scale >= o.min_scale && o.init_scale <= o.max_scale, op, "init_scale ", o.init_scale,
            " is outside [", o.min_scale, ", ", o.max_scale, "]");
  MOX_CHECK(o.growth_factor >= 1, op, "growth_factor must be >= 1, got ", o.growth_factor);
  MOX_CHECK(o.backoff_factor > 0 && o.backoff_factor < 1, op, "backoff_factor must be in (0, 1), got ",
            o.backoff_factor);
  MOX_CHECK(o.growth_interval > 0, op, "growth_interval must be positive, got ", o.growth_interval);
  LossScaler s;
  s.dynamic_ = true;
  s.scale_ = o.init_scale;
  s.o_ = o;
  return s;
}

LossScaler LossScaler::from_flag(const std::string& value, const std::string& flag) {
  if (value == "dynamic") return dynamic();
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MOX_CHECK(used > 0 && used == value.size() && std::isfinite(v) && v > 0, "flags", flag,
            " must be 'dynamic' or a positive number (1 disables loss scaling), got '", value, "'");
  return fixed(v);
}

std::string LossScaler::str() const {
  std::ostringstream os;
  if (dynamic_) os << "dynamic (scale " << scale_ << ")";
  else if (scale_ == 1) os << "off";
  else os << "static " << scale_;
  return os.str();
}

Tensor LossScaler::scale(const Tensor& loss) const {
  MOX_CHECK(loss.defined(), "LossScaler", "the loss is undefined");
  if (!enabled()) return loss;
  bool low = loss.dtype() == DType::f16 || loss.dtype() == DType::bf16;
  return mul(low ? loss.to(DType::f32) : loss, scale_);
}

bool LossScaler::unscale(const TensorList& params) const {
  if (!enabled()) return true;
  bool finite = true;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) finite = unscale_(g, 1 / scale_) && finite;
  }
  return finite;
}

bool LossScaler::update(bool finite) {
  if (finite) {
    ++good_;
    if (dynamic_ && good_ >= o_.growth_interval) {
      scale_ = std::min(scale_ * o_.growth_factor, o_.max_scale);
      good_ = 0;
    }
    return true;
  }
  ++skipped_;
  good_ = 0;
  if (dynamic_) scale_ = std::max(scale_ * o_.backoff_factor, o_.min_scale);
  return false;
}

std::map<std::string, Tensor> LossScaler::state_dict() const {
  return {{"scale", scalar_tensor(scale_, opts(DType::f64))},
          {"good_steps", scalar_tensor(double(good_), opts(DType::i64))},
          {"skipped_steps", scalar_tensor(double(skipped_), opts(DType::i64))}};
}

void LossScaler::load_state_dict(const std::map<std::string, Tensor>& state) {
  for (const char* key : {"scale", "good_steps", "skipped_steps"}) {
    auto it = state.find(key);
    MOX_CHECK(it != state.end(), "LossScaler", "state has no '", key, "'");
    MOX_CHECK(it->second.numel() == 1, "LossScaler", "'", key, "' must hold one value, got ", it->second.str());
  }
  double scale = state.at("scale").item();
  MOX_CHECK(std::isfinite(scale) && scale > 0, "LossScaler", "saved scale ", scale, " is not a positive number");
  if (dynamic_) scale_ = scale;  // a static scale is the caller's choice, not state
  good_ = int64_t(state.at("good_steps").item());
  skipped_ = int64_t(state.at("skipped_steps").item());
}

}  // namespace mox::nn
