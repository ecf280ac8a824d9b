// LossScaler: the loss scaling of mixed-precision training. The loss is multiplied by the scale
// before backward, so small gradients survive in f16 instead of flushing to zero; the
// gradients are divided by it again before the optimizer step. Static scaling (the manual's
// loss_scale flag; 1 disables it) keeps one scale. Dynamic scaling starts at 2^15, doubles after
// growth_interval (2000) steps in a row with finite gradients, and on inf/NaN gradients halves
// the scale (never below min_scale) and skips the step. With any scale other than 1, a step
// whose gradients are not finite is skipped. The API follows flashlight's DynamicScaler:
//
//   nn::LossScaler scaler = nn::LossScaler::dynamic();
//   opt->zero_grad();
//   scaler.scale(loss).backward();
//   bool finite = scaler.unscale(model->parameters());
//   if (scaler.update(finite)) opt->step();   // false: skipped, the scale went down
//
// mox::run does this itself when RunArgs::loss_scale is set (see nn/run/run.h).
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace mox::nn {

struct DynamicLossScaleOptions {
  double init_scale = 32768;    // 2^15
  double growth_factor = 2;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;  // finite steps in a row before the scale grows
  double min_scale = 1;
  double max_scale = 16777216;  // 2^24
};

class LossScaler {
 public:
  // Static scaling by scale (> 0); 1 disables scaling.
  static LossScaler fixed(double scale);
  static LossScaler dynamic(DynamicLossScaleOptions options = {});
  // The loss_scale flag: "dynamic", or a positive number for static scaling ("1": disabled).
  // Bad values raise mox::Error naming flag.
  static LossScaler from_flag(const std::string& value, const std::string& flag = "--loss_scale");

  LossScaler() = default;  // off (a static 1)

  bool enabled() const { return dynamic_ || scale_ != 1; }
  bool is_dynamic() const { return dynamic_; }
  double scale() const { return scale_; }
  int64_t skipped_steps() const { return skipped_; }
  int64_t good_steps() const { return good_; }  // finite steps since the scale last changed
  const DynamicLossScaleOptions& options() const { return o_; }
  std::string str() const;  // "dynamic (scale 32768)", "static 1024", "off"

  // The loss times the scale, an f16 or bf16 loss widened to f32 first (an f16 loss times
  // 2^15 would overflow). The loss itself when scaling is off.
  Tensor scale(const Tensor& loss) const;
  // Divides each parameter's gradient by the scale in place; true when all are finite. With
  // scaling off, returns true without looking.
  bool unscale(const TensorList& params) const;
  // Records the step's outcome and returns whether the optimizer should step. Finite: counts a
  // good step and, when dynamic, grows the scale after growth_interval of them. Not finite:
  // counts a skipped step and, when dynamic, backs the scale off.
  bool update(bool finite);

  // For checkpoints: "scale" (f64), "good_steps" and "skipped_steps" (i64), all 0-d. Loading
  // restores the counts, and the scale when this scaler is dynamic.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

 private:
  bool dynamic_ = false;
  double scale_ = 1;
  int64_t good_ = 0, skipped_ = 0;
  DynamicLossScaleOptions o_;
};

}  // namespace mox::nn
