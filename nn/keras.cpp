#include "nn/keras.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <map>
#include <numeric>
#include <random>

#include "core/autograd/node.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"

namespace mox::nn::keras {
namespace {

// Puts the network back in the mode it had, however the scope is left.
struct ModeGuard {
  Module& m;
  bool was_training;
  explicit ModeGuard(Module& mod) : m(mod), was_training(mod.is_training()) {}
  ~ModeGuard() { m.train(was_training); }
};

bool is_crossentropy(const std::string& loss) { return loss.find("crossentropy") != std::string::npos; }

std::string batch_shape_str(const Shape& per_sample) {
  std::string r = "[N";
  for (int64_t d : per_sample) r += ", " + std::to_string(d);
  return r + "]";
}

// Rows [begin, begin + len) of src in the given order (src: contiguous, on the host).
Tensor take_rows(const Tensor& src, const std::vector<int64_t>* order, int64_t begin, int64_t len) {
  if (!order) return src.narrow(0, begin, len);
  Shape s = src.sizes();
  s[0] = len;
  Tensor out = empty(s, opts(src.dtype()));
  const size_t row = size_t(src.nbytes() / src.size(0));
  const char* in = static_cast<const char*>(src.raw_data());
  char* o = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < len; ++i) std::memcpy(o + size_t(i) * row, in + size_t((*order)[size_t(begin + i)]) * row, row);
  return out;
}

// A seed for the epoch shuffles drawn from Mox's generator, so manual_seed makes fit repeatable.
uint64_t shuffle_seed() {
  std::vector<double> r = randint(0, int64_t(1) << 31, {2}).tolist();
  return (uint64_t(r[0]) << 31) ^ uint64_t(r[1]);
}

// Keras's default learning rates, by optimizer name.
const std::map<std::string, double>& default_learning_rates() {
  static const std::map<std::string, double> lr = {{"adadelta", 1.0},  {"adagrad", 0.001}, {"adam", 0.001},
                                                   {"ftrl", 0.001},    {"momentum", 0.01}, {"rmsprop", 0.001},
                                                   {"sgd", 0.01}};
  return lr;
}

}  // namespace

// ---- History

bool History::contains(const std::string& key) const {
  return std::any_of(history.begin(), history.end(), [&](auto& kv) { return kv.first == key; });
}

const std::vector<double>& History::operator[](const std::string& key) const {
  for (auto& [k, v] : history)
    if (k == key) return v;
  std::string keys;
  for (auto& [k, v] : history) keys += (keys.empty() ? "" : ", ") + k;
  throw Error("History: no key '" + key + "' (keys: " + (keys.empty() ? "none, fit has not run" : keys) + ")");
}

std::vector<std::string> History::keys() const {
  std::vector<std::string> out;
  for (auto& [k, v] : history) out.push_back(k);
  return out;
}

void History::append(const Logs& logs) {
  for (auto& [key, value] : logs.items()) {
    auto it = std::find_if(history.begin(), history.end(), [&](auto& kv) { return kv.first == key; });
    if (it == history.end()) it = history.insert(history.end(), {key, {}});
    it->second.push_back(value);
  }
}

// ---- Model: construction and compile

Model::Model(std::shared_ptr<Sequential> net, Shape input_shape)
    : net_(std::move(net)), input_shape_(std::move(input_shape)) {
  MOX_CHECK(net_ != nullptr, "keras::Model", "the network is null");
  MOX_CHECK(!net_->children().empty(), "keras::Model", "the Sequential has no layers");
  for (int64_t d : input_shape_)
    MOX_CHECK_T(ShapeError, d > 0, "keras::Model", "input_shape ", shape_str(input_shape_),
                " has a non-positive size (leave the batch dim out)");
  if (!net_->built() || net_->input_shape() != input_shape_) net_->build(input_shape_);
  for (const Tensor& p : net_->parameters())
    if (p.is_floating_point()) {
      dtype_ = p.dtype();
      device_ = p.device();
      break;
    }
  NoGradGuard no_grad;
  ModeGuard mode(*net_);
  net_->eval();
  Shape one = input_shape_;
  one.insert(one.begin(), 1);
  Tensor out = net_->forward(zeros(one, opts(dtype_, device_)));
  output_shape_.assign(out.sizes().begin() + 1, out.sizes().end());
}

void Model::compile(const std::string& optimizer, const std::string& loss, const std::vector<std::string>& metrics,
                    bool from_logits) {
  auto it = default_learning_rates().find(optimizer);
  if (it == default_learning_rates().end()) {
    std::string names;
    for (auto& [n, lr] : default_learning_rates()) names += (names.empty() ? "" : ", ") + n;
    throw Error("compile: unknown optimizer '" + optimizer + "' (" + names +
                "; or pass get_optimizer_fn(name, learning_rate, args))");
  }
  compile(get_optimizer_fn(optimizer, it->second), loss, metrics, from_logits);
}

void Model::compile(OptimizerFn optimizer, const std::string& loss, const std::vector<std::string>& metrics,
                    bool from_logits) {
  MOX_CHECK(optimizer != nullptr, "compile", "the optimizer function is empty");
  Loss kind;
  if (loss == "sparse_categorical_crossentropy") kind = Loss::sparse_categorical;
  else if (loss == "categorical_crossentropy") kind = Loss::categorical;
  else if (loss == "mse" || loss == "mean_squared_error") kind = Loss::mse;
  else
    throw Error("compile: unknown loss '" + loss +
                "' (sparse_categorical_crossentropy, categorical_crossentropy, mse, mean_squared_error)");
  std::string accuracy;
  for (const std::string& m : metrics) {
    MOX_CHECK(m == "accuracy" || m == "acc", "compile", "unknown metric '", m, "' (accuracy, acc)");
    MOX_CHECK(accuracy.empty(), "compile", "accuracy is listed twice in metrics ('", accuracy, "', '", m, "')");
    accuracy = m;
  }
  bool ce = is_crossentropy(loss);
  MOX_CHECK(!from_logits || ce, "compile", "from_logits applies to the crossentropy losses, not '", loss, "'");
  MOX_CHECK_T(ShapeError, !ce || output_shape_.size() == 1, "compile", loss, " needs outputs [N, C]; the model's are ",
              batch_shape_str(output_shape_));
  bool split = false;
  if (ce && !from_logits) {
    const ModulePtr& last = net_->children().back().second;
    if (auto* d = dynamic_cast<const Linear*>(last.get())) split = d->activation() == "softmax";
    if (auto* a = dynamic_cast<const Activation*>(last.get())) split = a->activation() == "softmax";
  }
  std::unique_ptr<Optimizer> opt = optimizer(net_->parameters());
  MOX_CHECK(opt != nullptr, "compile", "the optimizer function returned no optimizer");
  opt_ = std::move(opt);
  loss_ = kind;
  loss_name_ = loss;
  accuracy_key_ = accuracy;
  from_logits_ = from_logits;
  split_softmax_ = split;
}

std::ostream& Model::output() const { return out_ ? *out_ : std::cout; }

void Model::summary(std::ostream& os) const { net_->summary(os); }
void Model::summary() const { summary(std::cout); }

// ---- data checks

void Model::check_compiled(const char* op) const {
  MOX_CHECK(compiled(), op, "the model is not compiled: call compile(optimizer, loss, metrics) first");
}

void Model::check_x(const char* op, const Tensor& x) const {
  MOX_CHECK(x.defined(), op, "x is an undefined tensor");
  bool ok = x.dim() == int64_t(input_shape_.size()) + 1 &&
            std::equal(input_shape_.begin(), input_shape_.end(), x.sizes().begin() + 1);
  MOX_CHECK_T(ShapeError, ok, op, "x has shape ", shape_str(x.sizes()), " but the model takes ",
              batch_shape_str(input_shape_), " (input_shape ", shape_str(input_shape_), ")");
  MOX_CHECK_T(ShapeError, x.size(0) > 0, op, "x ", shape_str(x.sizes()), " holds no samples");
}

Tensor Model::prepare_labels(const char* op, const Tensor& x, const Tensor& y) const {
  MOX_CHECK(y.defined(), op, "y is an undefined tensor");
  const int64_t n = x.size(0);
  MOX_CHECK_T(ShapeError, y.dim() >= 1 && y.size(0) == n, op, "x and y hold different numbers of samples: x ",
              shape_str(x.sizes()), " has ", n, ", y ", shape_str(y.sizes()), " has ", y.dim() ? y.size(0) : 0);
  Shape out_shape = output_shape_;
  out_shape.insert(out_shape.begin(), n);
  const std::string outputs = " for outputs " + shape_str(out_shape);
  Tensor labels = y.to(Device::cpu());
  if (loss_ == Loss::sparse_categorical) {
    const int64_t classes = output_shape_[0];
    bool one_hot = y.sizes() == out_shape;
    MOX_CHECK_T(TypeError, !is_floating(y.dtype()) && y.dtype() != DType::boolean, op, loss_name_,
                " takes integer class indices, got ", dtype_name(y.dtype()), " labels ", shape_str(y.sizes()), outputs,
                one_hot ? " (one-hot labels go with categorical_crossentropy)" : "");
    MOX_CHECK_T(ShapeError, y.dim() == 1 || (y.dim() == 2 && y.size(1) == 1), op, loss_name_,
                " takes class indices [", n, "] or [", n, ", 1], got labels ", shape_str(y.sizes()), outputs);
    labels = labels.reshape({n}).to(DType::i64).contiguous();
    int64_t lo = amin(labels).item<int64_t>(), hi = amax(labels).item<int64_t>();
    MOX_CHECK_T(IndexError, lo >= 0 && hi < classes, op, "class index ", lo < 0 ? lo : hi, " is out of range for ",
                classes, " classes (labels ", shape_str(y.sizes()), outputs, ")");
    return labels;
  }
  if (loss_ == Loss::categorical) {
    MOX_CHECK_T(ShapeError, y.sizes() == out_shape, op, loss_name_, " takes one-hot labels ", shape_str(out_shape),
                ", got ", dtype_name(y.dtype()), " labels ", shape_str(y.sizes()),
                y.dim() == 1 ? " (class indices go with sparse_categorical_crossentropy)" : "");
    return labels.to(dtype_).contiguous();
  }
  bool column = output_shape_ == Shape{1} && y.dim() == 1;
  MOX_CHECK_T(ShapeError, y.sizes() == out_shape || column, op, loss_name_, " takes labels shaped like the outputs ",
              shape_str(out_shape), ", got ", shape_str(y.sizes()));
  if (column) labels = labels.reshape({n, 1});
  return labels.to(dtype_).contiguous();
}

Tensor Model::to_model(const Tensor& x) const {
  Tensor t = x;
  if (t.dtype() != dtype_) t = t.to(dtype_);
  if (t.device() != device_) t = t.to(device_);
  return t;
}

// ---- forward and loss

Tensor Model::forward_for_loss(const Tensor& x) {
  if (!split_softmax_) return net_->forward(x);
  // The layers as Sequential::forward runs them, but the last one stops before its softmax.
  const auto& layers = net_->children();
  Tensor h = x;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto& [name, layer] = layers[i];
    try {
      if (i + 1 < layers.size()) h = (*layer)(h);
      else if (auto* d = dynamic_cast<Linear*>(layer.get())) h = linear(h, d->weight, d->bias);
      // else: an Activation("softmax") layer, whose input are the logits.
    } catch (const Error& e) {
      throw Error("layer '" + name + "' (" + layer->type_name() + "): " + e.what());
    }
  }
  return h;
}

Tensor Model::loss_of(const Batch& b) const {
  const bool logits = split_softmax_ || from_logits_;
  // Probabilities as Keras takes them: renormalized rows, clipped away from 0 and 1.
  auto log_probs = [&] { return log(clamp(div(b.out, sum(b.out, {-1}, true)), 1e-7, 1 - 1e-7)); };
  Tensor loss;
  switch (loss_) {
    case Loss::sparse_categorical:
      loss = logits ? cross_entropy(b.out, b.target) : nll_loss(log_probs(), b.target);
      break;
    case Loss::categorical:
      loss = logits ? cross_entropy(b.out, b.target) : neg(mean(sum(mul(b.target, log_probs()), {-1})));
      break;
    case Loss::mse:
      loss = mse_loss(b.out, b.target);
      break;
  }
  for (const Tensor& r : net_->regularization_losses()) loss = add(loss, r);
  return loss;
}

double Model::correct_of(const Batch& b) const {
  NoGradGuard no_grad;
  Tensor hits;
  if (loss_ == Loss::sparse_categorical) hits = eq(argmax(b.out, -1), b.target);
  else if (loss_ == Loss::mse && output_shape_ == Shape{1}) {
    Tensor half = full({}, 0.5, opts(b.out.dtype(), b.out.device()));
    hits = eq(gt(b.out, half), gt(b.target, half));
  } else hits = eq(argmax(b.out, -1), argmax(b.target, -1));
  const int64_t n = b.out.size(0);
  // Samples with several positions (mse on [N, T, C]) count the fraction they got right.
  return sum(mean(hits.to(DType::f64).reshape({n, hits.numel() / n}), {1})).item();
}

// ---- fit, evaluate, predict

Logs Model::run_eval(const Tensor& x, const Tensor& labels, int64_t batch_size, int verbose) {
  NoGradGuard no_grad;
  ModeGuard mode(*net_);
  net_->eval();
  const int64_t n = x.size(0), steps = (n + batch_size - 1) / batch_size;
  ProgressBar bar(steps, output(), verbose == 1 && !out_ && isatty(STDOUT_FILENO));
  double loss_sum = 0, correct = 0;
  Logs logs;
  for (int64_t s = 0; s < steps; ++s) {
    int64_t begin = s * batch_size, len = std::min(batch_size, n - begin);
    Batch b{forward_for_loss(to_model(x.narrow(0, begin, len))), labels.narrow(0, begin, len).to(device_)};
    loss_sum += loss_of(b).item() * double(len);
    if (!accuracy_key_.empty()) correct += correct_of(b);
    logs = Logs{{"loss", loss_sum / double(begin + len)}};
    if (!accuracy_key_.empty()) logs.set(accuracy_key_, correct / double(begin + len));
    if (verbose == 1) bar.update(s + 1, logs);
  }
  if (verbose) bar.finish(logs);
  return logs;
}

History Model::fit(const Tensor& x, const Tensor& y, int epochs, int64_t batch_size,
                   const std::optional<ValidationData>& validation_data, const std::vector<CallbackPtr>& callbacks,
                   bool shuffle, int verbose) {
  check_compiled("fit");
  MOX_CHECK(epochs >= 0, "fit", "epochs must be >= 0, got ", epochs);
  MOX_CHECK(batch_size > 0, "fit", "batch_size must be positive, got ", batch_size);
  MOX_CHECK(verbose >= 0 && verbose <= 2, "fit", "verbose must be 0, 1 or 2, got ", verbose);
  check_x("fit", x);
  const Tensor labels = prepare_labels("fit", x, y);
  const Tensor xs = x.to(Device::cpu()).contiguous();
  Tensor vx, vy;
  if (validation_data) {
    check_x("fit (validation_data)", validation_data->first);
    vy = prepare_labels("fit (validation_data)", validation_data->first, validation_data->second);
    vx = validation_data->first.to(Device::cpu()).contiguous();
  }
  for (size_t i = 0; i < callbacks.size(); ++i) {
    MOX_CHECK(callbacks[i] != nullptr, "fit", "callback ", i, " is null");
    callbacks[i]->set_model(this);
  }

  ModeGuard mode(*net_);
  const int64_t n = xs.size(0), steps = (n + batch_size - 1) / batch_size;
  const bool dynamic = verbose == 1 && !out_ && isatty(STDOUT_FILENO);
  std::vector<int64_t> order(size_t(n), 0);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::mt19937_64 rng(shuffle ? shuffle_seed() : 0);
  history_ = History{};
  stop_training = false;
  Logs logs;
  for (auto& cb : callbacks) cb->on_train_begin(logs);
  for (int epoch = 0; epoch < epochs && !stop_training; ++epoch) {
    for (auto& cb : callbacks) cb->on_epoch_begin(epoch, Logs{});
    if (verbose) output() << "Epoch " << epoch + 1 << "/" << epochs << "\n" << std::flush;
    if (shuffle) std::shuffle(order.begin(), order.end(), rng);
    ProgressBar bar(steps, output(), dynamic);
    double loss_sum = 0, correct = 0;
    for (int64_t s = 0; s < steps; ++s) {
      for (auto& cb : callbacks) cb->on_batch_begin(s, Logs{});
      int64_t begin = s * batch_size, len = std::min(batch_size, n - begin);
      const std::vector<int64_t>* idx = shuffle ? &order : nullptr;
      net_->train();
      Batch b{forward_for_loss(to_model(take_rows(xs, idx, begin, len))),
              take_rows(labels, idx, begin, len).to(device_)};
      Tensor loss = loss_of(b);
      opt_->zero_grad();
      loss.backward();
      opt_->step();
      loss_sum += loss.item() * double(len);
      if (!accuracy_key_.empty()) correct += correct_of(b);
      logs = Logs{{"loss", loss_sum / double(begin + len)}};
      if (!accuracy_key_.empty()) logs.set(accuracy_key_, correct / double(begin + len));
      for (auto& cb : callbacks) cb->on_batch_end(s, logs);
      if (verbose == 1) bar.update(s + 1, logs);
    }
    if (validation_data) {
      const Logs val = run_eval(vx, vy, batch_size, 0);
      for (auto& [key, value] : val.items()) logs.set("val_" + key, value);
    }
    history_.epoch.push_back(epoch);
    history_.append(logs);
    if (verbose) bar.finish(logs);
    for (auto& cb : callbacks) cb->on_epoch_end(epoch, logs);
  }
  for (auto& cb : callbacks) cb->on_train_end(logs);
  return history_;
}

Evaluation Model::evaluate(const Tensor& x, const Tensor& y, int64_t batch_size, int verbose) {
  check_compiled("evaluate");
  MOX_CHECK(batch_size > 0, "evaluate", "batch_size must be positive, got ", batch_size);
  MOX_CHECK(verbose >= 0 && verbose <= 2, "evaluate", "verbose must be 0, 1 or 2, got ", verbose);
  check_x("evaluate", x);
  Tensor labels = prepare_labels("evaluate", x, y);
  Logs logs = run_eval(x.to(Device::cpu()).contiguous(), labels, batch_size, verbose);
  Evaluation r;
  r.loss = logs.at("loss");
  if (!accuracy_key_.empty()) r.accuracy = logs.at(accuracy_key_);
  return r;
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  MOX_CHECK(batch_size > 0, "predict", "batch_size must be positive, got ", batch_size);
  check_x("predict", x);
  NoGradGuard no_grad;
  ModeGuard mode(*net_);
  net_->eval();
  const Tensor xs = x.to(Device::cpu()).contiguous();
  const int64_t n = xs.size(0);
  TensorList outs;
  for (int64_t begin = 0; begin < n; begin += batch_size)
    outs.push_back(net_->forward(to_model(xs.narrow(0, begin, std::min(batch_size, n - begin)))).to(Device::cpu()));
  return outs.size() == 1 ? outs[0].contiguous() : concat(outs, 0);
}

// ---- weights

void Model::save_weights(const std::string& path) const {
  Checkpoint ckpt;
  ckpt.tensors = net_->state_dict();
  ckpt.metadata["format"] = "mox.keras.weights";
  save_checkpoint(path, ckpt);
}

void Model::load_weights(const std::string& path) {
  Checkpoint ckpt = load_checkpoint(path);
  try {
    net_->load_state_dict(ckpt.tensors, true);
  } catch (const Error& e) {
    throw Error("load_weights: " + path + " does not fit this model: " + e.what());
  }
}

}  // namespace mox::nn::keras
