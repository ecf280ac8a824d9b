#include "nn/run/hooks.h"

#include <iostream>
#include <sstream>

namespace mox {

LogEvaluationMetricHook::LogEvaluationMetricHook(EvaluationOptions o) : o_(std::move(o)) {
  MOX_CHECK(o_.batch_size > 0 && o_.samples_in_train > 0 && o_.samples_in_eval > 0 &&
                o_.evaluate_every_n_epochs > 0,
            "LogEvaluationMetricHook", "batch_size (", o_.batch_size, "), samples_in_train (",
            o_.samples_in_train, "), samples_in_eval (", o_.samples_in_eval,
            ") and evaluate_every_n_epochs (", o_.evaluate_every_n_epochs, ") must be positive");
  MOX_CHECK(!o_.monitor_info.empty(), "LogEvaluationMetricHook", "monitor_info names no metric");
}

void LogEvaluationMetricHook::begin(const RunArgs& args) {
  MOX_CHECK(args.inter_mode.has_value(), "LogEvaluationMetricHook",
            "needs run()'s inter_mode (e.g. ModeKeys::EVAL) to evaluate in");
  args_ = &args;
  steps_per_eval_ = std::max<int64_t>(1, o_.samples_in_train / o_.batch_size * o_.evaluate_every_n_epochs);
}

void LogEvaluationMetricHook::after_step(const StepContext& ctx) {
  if (ctx.global_step % steps_per_eval_ != 0) return;
  std::map<std::string, double> values = evaluate();
  history_.emplace_back(ctx.global_step, values);
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(3);
  line << o_.prefix << " step: " << ctx.global_step;
  for (auto& [name, v] : values) line << " " << name << ": " << v;
  if (args_->verbose) std::cout << line.str() << std::endl;
  on_evaluation(ctx.global_step, values);
}

void LogEvaluationMetricHook::on_evaluation(int64_t, const std::map<std::string, double>&) {}

// Runs the model in inter_mode over samples_in_eval samples, averaging the monitored values
// per sample, then returns the model to training mode.
std::map<std::string, double> LogEvaluationMetricHook::evaluate() {
  NoGradGuard no_grad;
  args_->model->eval();
  BatchSource input = args_->input_fn(*args_->inter_mode, o_.batch_size);
  std::map<std::string, double> sums;
  int64_t seen = 0;
  while (seen < o_.samples_in_eval) {
    std::optional<Batch> batch = input();
    if (!batch) break;
    ModelSpec spec = args_->model_fn(*batch, *args_->inter_mode);
    int64_t n = batch->empty() || (*batch)[0].dim() == 0 ? 1 : (*batch)[0].size(0);
    for (const std::string& name : o_.monitor_info) {
      auto it = spec.log_info.find(name);
      MOX_CHECK(it != spec.log_info.end(), "LogEvaluationMetricHook", "monitor_info names '", name,
                "', which model_fn's log_info does not have");
      sums[name] += it->second.item() * double(n);
    }
    seen += n;
  }
  args_->model->train();
  for (auto& [name, s] : sums) s /= double(std::max<int64_t>(seen, 1));
  return sums;
}

EarlyStoppingHook::EarlyStoppingHook(EvaluationOptions o, std::string monitor, double min_delta,
                                     int64_t patience, bool higher_is_better)
    : LogEvaluationMetricHook([&] {
        if (o.prefix == "[VALIDATION METRICS]") o.prefix = "[EarlyStopping]";
        return o;
      }()),
      monitor_(std::move(monitor)), min_delta_(min_delta), patience_(patience), higher_is_better_(higher_is_better) {
  bool listed = std::find(o_.monitor_info.begin(), o_.monitor_info.end(), monitor_) != o_.monitor_info.end();
  MOX_CHECK(listed, "EarlyStoppingHook", "monitor '", monitor_, "' is not in monitor_info");
  MOX_CHECK(patience_ > 0, "EarlyStoppingHook", "patience must be positive, got ", patience_);
}

void EarlyStoppingHook::on_evaluation(int64_t, const std::map<std::string, double>& values) {
  double v = values.at(monitor_);
  bool improved = !seen_ || (higher_is_better_ ? v > best_ + min_delta_ : v < best_ - min_delta_);
  if (improved) {
    best_ = v;
    seen_ = true;
    bad_evaluations_ = 0;
  } else if (++bad_evaluations_ >= patience_) {
    stop_ = true;
  }
}

}  // namespace mox
