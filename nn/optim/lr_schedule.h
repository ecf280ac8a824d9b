// MoXing's piecewise_lr: a learning rate by epoch from a strategy string such as
// "5:0.1->0.4,10:0.4=>0.8,15:0.8,20:0.08". Each stage "END:spec" covers the epochs after the
// previous stage's end up to and including END; spec is a constant "v", a linear ramp "a->b" or an exponential
// ramp "a=>b" (geometric interpolation). After the last stage the last value holds.
#pragma once
#include <string>
#include <vector>

#include "nn/optim/optimizer.h"

namespace mox::nn {

struct LrStage {
  double end_epoch, start_value, end_value;
  enum Kind { constant, linear, exponential } kind;
};

// Parses the strategy; malformed text raises mox::Error quoting the bad stage.
std::vector<LrStage> parse_lr_strategy(const std::string& strategy);
// The rate at a (fractional) epoch.
double lr_at_epoch(const std::vector<LrStage>& stages, double epoch);
// The rate at a global step, with num_samples / global_batch_size steps per epoch.
LearningRate piecewise_lr(const std::string& strategy, int64_t num_samples, int64_t global_batch_size);

}  // namespace mox::nn
