#include "nn/optim/lr_schedule.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace mox::nn {
namespace {

double parse_number(const std::string& s, const std::string& stage) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  MOX_CHECK(used == s.size() && !s.empty(), "piecewise_lr", "bad number '", s, "' in stage '", stage, "'");
  return v;
}

}  // namespace

std::vector<LrStage> parse_lr_strategy(const std::string& strategy) {
  std::vector<LrStage> stages;
  std::stringstream ss(strategy);
  std::string stage;
  double prev_end = 0;
  while (std::getline(ss, stage, ',')) {
    size_t colon = stage.find(':');
    MOX_CHECK(colon != std::string::npos, "piecewise_lr", "stage '", stage,
              "' is not END_EPOCH:VALUE (in '", strategy, "')");
    LrStage s{};
    s.end_epoch = parse_number(stage.substr(0, colon), stage);
    MOX_CHECK(s.end_epoch > prev_end, "piecewise_lr", "stage '", stage, "' ends at epoch ", s.end_epoch,
              ", not after the previous stage's ", prev_end);
    std::string spec = stage.substr(colon + 1);
    size_t lin = spec.find("->"), exp = spec.find("=>");
    if (lin != std::string::npos || exp != std::string::npos) {
      size_t at = lin != std::string::npos ? lin : exp;
      s.kind = lin != std::string::npos ? LrStage::linear : LrStage::exponential;
      s.start_value = parse_number(spec.substr(0, at), stage);
      s.end_value = parse_number(spec.substr(at + 2), stage);
      if (s.kind == LrStage::exponential)
        MOX_CHECK(s.start_value > 0 && s.end_value > 0, "piecewise_lr", "exponential stage '", stage,
                  "' needs positive values");
    } else {
      s.kind = LrStage::constant;
      s.start_value = s.end_value = parse_number(spec, stage);
    }
    stages.push_back(s);
    prev_end = s.end_epoch;
  }
  MOX_CHECK(!stages.empty(), "piecewise_lr", "empty strategy");
  return stages;
}

double lr_at_epoch(const std::vector<LrStage>& stages, double epoch) {
  double begin = 0;
  for (const LrStage& s : stages) {
    if (epoch <= s.end_epoch) {  // a stage covers (previous end, end]
      double f = (epoch - begin) / (s.end_epoch - begin);
      switch (s.kind) {
        case LrStage::constant: return s.start_value;
        case LrStage::linear: return s.start_value + f * (s.end_value - s.start_value);
        case LrStage::exponential: return s.start_value * std::pow(s.end_value / s.start_value, f);
      }
    }
    begin = s.end_epoch;
  }
  return stages.back().end_value;
}

LearningRate piecewise_lr(const std::string& strategy, int64_t num_samples, int64_t global_batch_size) {
  MOX_CHECK(num_samples > 0 && global_batch_size > 0, "piecewise_lr", "num_samples (", num_samples,
            ") and global_batch_size (", global_batch_size, ") must be positive");
  auto stages = parse_lr_strategy(strategy);
  double steps_per_epoch = double(num_samples) / double(global_batch_size);
  return [stages, steps_per_epoch](int64_t step) { return lr_at_epoch(stages, double(step) / steps_per_epoch); };
}

}  // namespace mox::nn
