// The update rules, as TensorFlow 1 defines them (tf.train.*Optimizer), element by element:
//   sgd       w -= lr*g
//   momentum  a = m*a + g;  w -= lr*a            (nesterov: w -= lr*(g + m*a))
//   adam      lr_t = lr*sqrt(1-b2^t)/(1-b1^t); m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
//             w -= lr_t*m/(sqrt(v) + eps)
//   adadelta  a = rho*a + (1-rho)*g^2; u = sqrt(au + eps)/sqrt(a + eps)*g;
//             au = rho*au + (1-rho)*u^2; w -= lr*u
//   adagrad   a += g^2 (a starts at 0.1); w -= lr*g/sqrt(a)
//   rmsprop   ms = d*ms + (1-d)*g^2 (ms starts at 1); mom = m*mom + lr*g/sqrt(ms + eps); w -= mom
//   ftrl      n' = n + g^2; z += g - (n'^-p - n^-p)/lr*w; n = n'   (p = lr_power, n starts at 0.1)
//             w = |z| > l1 ? (sign(z)*l1 - z) / (n'^-p/lr + 2*l2) : 0
// weight_decay adds weight_decay*w to the gradient first. momentum, adam and adadelta run as one
// fused kernel pass (kernels/optim.h) where the device has it and the tensors are dense.
#include "nn/optim/optimizer.h"

#include <cmath>
#include <set>

#include "core/ops/common.h"
#include "kernels/optim.h"

namespace mox::nn {

Optimizer::Optimizer(std::string name, TensorList params, LearningRate lr, OptimizerArgs args)
    : name_(std::move(name)), params_(std::move(params)), lr_(std::move(lr)), args_(std::move(args)) {
  weight_decay_ = arg("weight_decay", 0);
  for (size_t i = 0; i < params_.size(); ++i)
    MOX_CHECK(params_[i].defined() && params_[i].is_floating_point(), name_, "parameter ", i,
              " is not a floating-point tensor: ", params_[i].str());
}

double Optimizer::arg(const std::string& key, double fallback) const {
  auto it = args_.find(key);
  return it == args_.end() ? fallback : it->second;
}

Tensor& Optimizer::slot(size_t i, const std::string& name, const Tensor& like, double value) {
  std::string key = std::to_string(i) + "/" + name;
  auto it = slots_.find(key);
  if (it == slots_.end()) it = slots_.emplace(key, full_like(like, value)).first;
  return it->second;
}

void Optimizer::step() {
  NoGradGuard no_grad;
  double lr = learning_rate();
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& w = params_[i];
    Tensor g = w.grad();
    if (!g.defined()) continue;
    if (weight_decay_ != 0) g = add(g, mul(w, weight_decay_));
    update(i, w, g, lr);
  }
  ++step_;
}

bool Optimizer::fused_update(UpdateRule rule, Tensor& w, const Tensor& g, Tensor& s0, Tensor* s1,
                             const UpdateArgs& args) {
  auto fits = [&](const Tensor& t) {
    return t.dtype() == w.dtype() && t.device() == w.device() && t.sizes() == w.sizes() && t.is_contiguous();
  };
  if ((w.dtype() != DType::f32 && w.dtype() != DType::f64) || !fits(w) || !fits(g) || !fits(s0) ||
      (s1 && !fits(*s1)) || !has_kernel(optimizer_update_stub, w.device()))
    return false;
  kernel(optimizer_update_stub, w.device(), name_.c_str())(rule, w.dtype(), w.numel(), w.raw_data(), g.raw_data(),
                                                            s0.raw_data(), s1 ? s1->raw_data() : nullptr, args);
  w.bump_version();
  s0.bump_version();
  if (s1) s1->bump_version();
  return true;
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

std::map<std::string, Tensor> Optimizer::state_dict() const {
  std::map<std::string, Tensor> out = slots_;
  // Adam's bias correction counts steps, so the step travels with the slots.
  out["global_step"] = scalar_tensor(double(step_), opts(DType::i64));
  return out;
}

void Optimizer::load_state_dict(const std::map<std::string, Tensor>& state) {
  for (auto& [key, t] : state) {
    if (key == "global_step") {
      MOX_CHECK(t.numel() == 1, name_, "'global_step' must hold one value, got ", t.str());
      step_ = int64_t(t.item());
      continue;
    }
    size_t slash = key.find('/');
    size_t digits = key.find_first_not_of("0123456789");
    MOX_CHECK(slash != std::string::npos && slash > 0 && slash <= 9 && digits == slash, name_, "bad optimizer slot name '",
              key, "' (expected '<parameter index>/<slot>' or 'global_step')");
    size_t i = std::stoul(key.substr(0, slash));
    MOX_CHECK(i < params_.size(), name_, "slot '", key, "' names parameter ", i, " of ", params_.size());
    MOX_CHECK_T(ShapeError, t.sizes() == params_[i].sizes(), name_, "slot '", key, "' has shape ",
                shape_str(t.sizes()), ", parameter ", i, " has ", shape_str(params_[i].sizes()));
    slots_[key] = t.to(params_[i].dtype()).to(params_[i].device()).clone();
  }
}

namespace {

class Sgd : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t, Tensor& w, const Tensor& g, double lr) override { w.add_(g, -lr); }
};

class Momentum : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    double m = arg("momentum", 0.9);
    Tensor& a = slot(i, "momentum", w);
    const bool nesterov = arg("use_nesterov", 0) != 0;
    if (fused_update(nesterov ? UpdateRule::nesterov : UpdateRule::momentum, w, g, a, nullptr, {lr, m, 0, 0}))
      return;
    a.mul_(m).add_(g);
    if (nesterov) w.add_(add(g, mul(a, m)), -lr);
    else w.add_(a, -lr);
  }
};

class Adam : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    double b1 = arg("beta1", 0.9), b2 = arg("beta2", 0.999), eps = arg("epsilon", 1e-8);
    double t = double(global_step() + 1);
    double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    Tensor& m = slot(i, "m", w);
    Tensor& v = slot(i, "v", w);
    if (fused_update(UpdateRule::adam, w, g, m, &v, {lr_t, b1, b2, eps})) return;
    m.mul_(b1).add_(g, 1 - b1);
    v.mul_(b2).add_(mul(g, g), 1 - b2);
    w.add_(div(m, add(sqrt(v), eps)), -lr_t);
  }
};

class Adadelta : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    double rho = arg("rho", 0.95), eps = arg("epsilon", 1e-8);
    Tensor& a = slot(i, "accum", w);
    Tensor& au = slot(i, "accum_update", w);
    if (fused_update(UpdateRule::adadelta, w, g, a, &au, {lr, rho, 0, eps})) return;
    a.mul_(rho).add_(mul(g, g), 1 - rho);
    Tensor u = mul(div(sqrt(add(au, eps)), sqrt(add(a, eps))), g);
    au.mul_(rho).add_(mul(u, u), 1 - rho);
    w.add_(u, -lr);
  }
};

class Adagrad : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    Tensor& a = slot(i, "accumulator", w, arg("initial_accumulator_value", 0.1));
    a.add_(mul(g, g));
    w.add_(div(g, sqrt(a)), -lr);
  }
};

class RmsProp : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    double d = arg("decay", 0.9), m = arg("momentum", 0), eps = arg("epsilon", 1e-10);
    Tensor& ms = slot(i, "rms", w, 1.0);
    Tensor& mom = slot(i, "momentum", w);
    ms.mul_(d).add_(mul(g, g), 1 - d);
    mom.mul_(m).add_(div(g, sqrt(add(ms, eps))), lr);
    w.sub_(mom);
  }
};

class Ftrl : public Optimizer {
  using Optimizer::Optimizer;
  void update(size_t i, Tensor& w, const Tensor& g, double lr) override {
    double p = -arg("learning_rate_power", -0.5), l1 = arg("l1_regularization_strength", 0),
           l2 = arg("l2_regularization_strength", 0);
    Tensor& n = slot(i, "accum", w, arg("initial_accumulator_value", 0.1));
    Tensor& z = slot(i, "linear", w);
    Tensor n_new = add(n, mul(g, g));
    Tensor pow_new = pow(n_new, p), pow_old = pow(n, p);  // n^-lr_power
    z.add_(sub(g, mul(div(sub(pow_new, pow_old), full_like(w, lr)), w)));
    n.copy_(n_new);
    Tensor quadratic = add(mul(pow_new, 1.0 / lr), 2 * l2);
    Tensor shrunk = div(sub(mul(sign_of(z), l1), z), quadratic);
    w.copy_(where(gt(abs(z), full({}, l1, opts(z.dtype(), z.device()))), shrunk, zeros_like(w)));
  }
  static Tensor sign_of(const Tensor& z) {
    Tensor zero = zeros({}, opts(z.dtype(), z.device()));
    return sub(gt(z, zero).to(z.dtype()), lt(z, zero).to(z.dtype()));
  }
};

const std::map<std::string, std::set<std::string>>& known_args() {
  static const std::map<std::string, std::set<std::string>> k = {
      {"sgd", {}},
      {"momentum", {"momentum", "use_nesterov"}},
      {"adam", {"beta1", "beta2", "epsilon"}},
      {"adadelta", {"rho", "epsilon"}},
      {"adagrad", {"initial_accumulator_value"}},
      {"rmsprop", {"decay", "momentum", "epsilon"}},
      {"ftrl", {"learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
                "l2_regularization_strength"}}};
  return k;
}

}  // namespace

OptimizerFn get_optimizer_fn(const std::string& name, LearningRate lr, OptimizerArgs args) {
  auto it = known_args().find(name);
  if (it == known_args().end())
    throw Error("get_optimizer_fn: unsupported optimizer name '" + name +
                "' (adadelta, adagrad, adam, ftrl, momentum, rmsprop, sgd)");
  for (auto& [key, v] : args) {
    std::string valid = "weight_decay";
    for (const std::string& k : it->second) valid += ", " + k;
    MOX_CHECK(key == "weight_decay" || it->second.count(key), "get_optimizer_fn",
              "optimizer '", name, "' has no argument '", key, "' (", valid, ")");
  }
  MOX_CHECK(lr != nullptr, "get_optimizer_fn", "learning_rate is empty");
  return [name, lr, args](const TensorList& params) -> std::unique_ptr<Optimizer> {
    if (name == "sgd") return std::make_unique<Sgd>(name, params, lr, args);
    if (name == "momentum") return std::make_unique<Momentum>(name, params, lr, args);
    if (name == "adam") return std::make_unique<Adam>(name, params, lr, args);
    if (name == "adadelta") return std::make_unique<Adadelta>(name, params, lr, args);
    if (name == "adagrad") return std::make_unique<Adagrad>(name, params, lr, args);
    if (name == "rmsprop") return std::make_unique<RmsProp>(name, params, lr, args);
    return std::make_unique<Ftrl>(name, params, lr, args);
  };
}

OptimizerFn get_optimizer_fn(const std::string& name, double lr, OptimizerArgs args) {
  MOX_CHECK(lr > 0, "get_optimizer_fn", "learning_rate must be positive, got ", lr);
  return get_optimizer_fn(name, constant_lr(lr), std::move(args));
}

}  // namespace mox::nn
