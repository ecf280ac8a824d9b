// Optimizers by MoXing name (sgd, momentum, adam, adadelta, adagrad, ftrl, rmsprop) with
// TensorFlow's update rules and slot initial values, so a MoXing user's hyper-parameters
// carry over. The learning rate is a function of the global step (see piecewise_lr).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/ops.h"

namespace mox {
enum class UpdateRule;  // kernels/optim.h
struct UpdateArgs;
}  // namespace mox

namespace mox::nn {

using LearningRate = std::function<double(int64_t global_step)>;
inline LearningRate constant_lr(double lr) {
  return [lr](int64_t) { return lr; };
}

// Optional arguments of get_optimizer_fn, by TensorFlow's names. Unset ones take that
// optimizer's TensorFlow default.
using OptimizerArgs = std::map<std::string, double>;

class Optimizer {
 public:
  Optimizer(std::string name, TensorList params, LearningRate lr, OptimizerArgs args);
  virtual ~Optimizer() = default;

  // One update from the parameters' .grad (parameters without a gradient are skipped),
  // then global_step += 1.
  void step();
  void zero_grad();
  int64_t global_step() const { return step_; }
  void set_global_step(int64_t s) { step_ = s; }
  double learning_rate() const { return lr_(step_); }
  const std::string& name() const { return name_; }
  const TensorList& params() const { return params_; }

  // Slot tensors ("<param index>/<slot>") and "global_step" (a 0-d i64 tensor) for checkpoints;
  // loading restores both, so a resumed optimizer continues exactly. The slot tensors alias the
  // live state (as PyTorch's do): clone them to keep a snapshot across later steps.
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state);

 protected:
  // Updates param i in place (under NoGradGuard) from grad g at learning rate lr.
  virtual void update(size_t i, Tensor& w, const Tensor& g, double lr) = 0;
  double arg(const std::string& key, double fallback) const;
  // Runs rule as one fused kernel pass over w, g and the slots when the device has the kernel
  // and all are dense, of one dtype (f32 or f64) and on one device; false (nothing done)
  // otherwise, and the caller runs the rule as tensor ops.
  bool fused_update(UpdateRule rule, Tensor& w, const Tensor& g, Tensor& s0, Tensor* s1, const UpdateArgs& args);
  // The slot named for param i, created as full(value) on first use.
  Tensor& slot(size_t i, const std::string& name, const Tensor& like, double value = 0);

 private:
  std::string name_;
  TensorList params_;
  LearningRate lr_;
  OptimizerArgs args_;
  double weight_decay_;
  int64_t step_ = 0;
  std::map<std::string, Tensor> slots_;
};

// The manual's get_optimizer_fn: an optimizer factory to apply to a model's parameters.
// Unknown names or arguments raise mox::Error listing the valid ones.
using OptimizerFn = std::function<std::unique_ptr<Optimizer>(const TensorList& params)>;
OptimizerFn get_optimizer_fn(const std::string& name, LearningRate learning_rate, OptimizerArgs args = {});
OptimizerFn get_optimizer_fn(const std::string& name, double learning_rate, OptimizerArgs args = {});

}  // namespace mox::nn
