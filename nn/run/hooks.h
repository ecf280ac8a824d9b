// MoXing's hooks that evaluate while training (they run in run()'s inter_mode):
// LogEvaluationMetricHook logs metrics on the evaluation data every few epochs;
// EarlyStoppingHook does the same and stops training once the monitored metric has not
// improved by min_delta for `patience` evaluations.
#pragma once
#include "nn/run/run.h"

namespace mox {

struct EvaluationOptions {
  std::vector<std::string> monitor_info;  // names from ModelSpec::log_info to evaluate
  int64_t batch_size = 32;
  int64_t samples_in_train = 0;           // one epoch of training, in samples
  int64_t samples_in_eval = 0;            // how many evaluation samples to read
  int64_t evaluate_every_n_epochs = 1;
  std::string prefix = "[VALIDATION METRICS]";
};

class LogEvaluationMetricHook : public Hook {
 public:
  explicit LogEvaluationMetricHook(EvaluationOptions o);
  void begin(const RunArgs& args) override;
  void after_step(const StepContext& ctx) override;
  // Every evaluation so far: (global step, metric values).
  const std::vector<std::pair<int64_t, std::map<std::string, double>>>& history() const { return history_; }

 protected:
  // Called with each evaluation's values.
  virtual void on_evaluation(int64_t step, const std::map<std::string, double>& values);
  EvaluationOptions o_;

 private:
  std::map<std::string, double> evaluate();
  const RunArgs* args_ = nullptr;
  int64_t steps_per_eval_ = 0;
  std::vector<std::pair<int64_t, std::map<std::string, double>>> history_;
};

class EarlyStoppingHook : public LogEvaluationMetricHook {
 public:
  EarlyStoppingHook(EvaluationOptions o, std::string monitor, double min_delta = 0, int64_t patience = 3,
                    bool higher_is_better = true);
  bool should_stop() const override { return stop_; }

 protected:
  void on_evaluation(int64_t step, const std::map<std::string, double>& values) override;

 private:
  std::string monitor_;
  double min_delta_;
  int64_t patience_, bad_evaluations_ = 0;
  bool higher_is_better_, stop_ = false, seen_ = false;
  double best_ = 0;
};

}  // namespace mox
