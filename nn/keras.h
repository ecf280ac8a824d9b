// Keras's Model API over nn::Sequential, for users coming from tf.keras:
//
//   auto net = std::make_shared<nn::Sequential>();
//   net->emplace<nn::Flatten>();
//   net->emplace<nn::Linear>(-1, 128, nn::LinearOptions{.activation = "relu"});
//   net->emplace<nn::Dropout>(0.2);
//   net->emplace<nn::Linear>(-1, 10, nn::LinearOptions{.activation = "softmax"});
//   nn::keras::Model model(net, {28, 28});
//   model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
//   auto history = model.fit(x_train, y_train, 5);
//   auto result = model.evaluate(x_test, y_test);   // result.loss, *result.accuracy
//
// Losses: sparse_categorical_crossentropy (labels: integer class indices [N] or [N, 1]),
// categorical_crossentropy (labels: one-hot or probability rows [N, C], floating), mse /
// mean_squared_error (labels shaped like the outputs). Crossentropy outputs are probabilities
// unless compile(..., from_logits = true). When the last layer's activation is softmax (a
// Dense with activation "softmax" or an Activation("softmax") layer), the loss is computed from
// the pre-softmax logits with a fused log-softmax (as tf.keras does when it finds a Softmax op),
// which stays finite where log(softmax) would underflow. Other probability outputs are
// renormalized to sum to 1, clipped to [1e-7, 1 - 1e-7] and logged, as Keras does.
// Metrics: "accuracy" (or "acc", reported under the name given): sparse / categorical accuracy
// by argmax for the crossentropies; for mse, binary accuracy (output > 0.5 vs label > 0.5) when
// the output has one unit, else argmax agreement. Weight-decay penalties of the layers
// (Module::regularization_losses) are added to the loss, in training and evaluation alike.
//
// Data are held on the host; each batch is cast to the model's floating dtype and moved to its
// device. fit() runs batches in training mode, and validation, evaluate() and predict() in
// eval mode (dropout off, batch norm on running statistics) without gradients; afterwards the
// network is left in the mode it had before.
#pragma once
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/keras_callbacks.h"
#include "nn/optim/optimizer.h"
#include "nn/sequential.h"

namespace mox::nn::keras {

// Per-epoch values of fit(): history["loss"][e], ["accuracy"], ["val_loss"], ["val_accuracy"].
struct History {
  std::vector<int> epoch;  // epochs run, from 0
  std::vector<std::pair<std::string, std::vector<double>>> history;  // in Keras's key order

  bool contains(const std::string& key) const;
  // Raises mox::Error naming key and the keys present when it is missing.
  const std::vector<double>& operator[](const std::string& key) const;
  std::vector<std::string> keys() const;
  void append(const Logs& logs);  // one epoch's logs
};

struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;  // set when compiled with the accuracy metric
};

using ValidationData = std::pair<Tensor, Tensor>;  // (x_val, y_val)

class Model {
 public:
  // input_shape excludes the batch dim, like Keras's input_shape=(28, 28). Builds net (its lazily
  // sized layers create their parameters) and records its output shape.
  Model(std::shared_ptr<Sequential> net, Shape input_shape);

  // optimizer by MoXing / Keras name with Keras's default learning rate (sgd 0.01, momentum
  // 0.01 with momentum 0.9, adam, rmsprop, adagrad and ftrl 0.001, adadelta 1.0), or an
  // OptimizerFn from get_optimizer_fn for other settings. Compiling again starts a fresh
  // optimizer. Unknown names raise mox::Error listing the valid ones.
  void compile(const std::string& optimizer, const std::string& loss,
               const std::vector<std::string>& metrics = {}, bool from_logits = false);
  void compile(OptimizerFn optimizer, const std::string& loss,
               const std::vector<std::string>& metrics = {}, bool from_logits = false);
  bool compiled() const { return opt_ != nullptr; }

  // Trains for epochs passes over (x, y) in batches of batch_size (the last one may be
  // smaller), reshuffled each epoch from the seeded generator (manual_seed) when shuffle is on.
  // verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
  History fit(const Tensor& x, const Tensor& y, int epochs = 1, int64_t batch_size = 32,
              const std::optional<ValidationData>& validation_data = std::nullopt,
              const std::vector<CallbackPtr>& callbacks = {}, bool shuffle = true, int verbose = 1);
  Evaluation evaluate(const Tensor& x, const Tensor& y, int64_t batch_size = 32, int verbose = 1);
  // The network's outputs for x (probabilities for a softmax model), on the host.
  Tensor predict(const Tensor& x, int64_t batch_size = 32);

  // The network's parameters and buffers (state_dict) as safetensors; loading needs the same
  // architecture and raises mox::Error naming a missing, extra or mis-shaped entry.
  void save_weights(const std::string& path) const;
  void load_weights(const std::string& path);

  void summary(std::ostream& os) const;
  void summary() const;  // to std::cout

  // Where fit() and evaluate() print. Default: std::cout, redrawn in place when stdout is a
  // terminal; a stream set here gets one line per epoch.
  void set_output(std::ostream& os) { out_ = &os; }
  std::ostream& output() const;

  Sequential& net() const { return *net_; }
  const std::shared_ptr<Sequential>& network() const { return net_; }
  Optimizer* optimizer() const { return opt_.get(); }
  const std::string& loss_name() const { return loss_name_; }
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const { return output_shape_; }  // per sample
  // Whether the loss is taken from the pre-softmax logits of a softmax last layer.
  bool loss_from_split_softmax() const { return split_softmax_; }
  // The History of the last fit().
  const History& history() const { return history_; }
  // A callback sets this to end fit() after the current epoch (like Keras's EarlyStopping).
  bool stop_training = false;

 private:
  enum class Loss { sparse_categorical, categorical, mse };
  struct Batch {
    Tensor out;     // the network's output, or its pre-softmax logits when split_softmax_
    Tensor target;  // labels converted for the loss
  };
  void check_compiled(const char* op) const;
  void check_x(const char* op, const Tensor& x) const;
  // Checks y against x and the loss and returns it converted for the loss (i64 class indices
  // [N] or floating [N, ...]) on the host.
  Tensor prepare_labels(const char* op, const Tensor& x, const Tensor& y) const;
  Tensor to_model(const Tensor& x) const;  // cast to the model's dtype, moved to its device
  Tensor forward_for_loss(const Tensor& x);
  Tensor loss_of(const Batch& b) const;
  double correct_of(const Batch& b) const;  // how many samples the accuracy metric counts right
  // Mean loss and accuracy over (x, labels) in eval mode without gradients.
  Logs run_eval(const Tensor& x, const Tensor& labels, int64_t batch_size, int verbose);

  std::shared_ptr<Sequential> net_;
  Shape input_shape_, output_shape_;
  DType dtype_ = DType::f32;
  Device device_ = Device::cpu();
  std::unique_ptr<Optimizer> opt_;
  Loss loss_ = Loss::mse;
  std::string loss_name_;
  std::string accuracy_key_;  // "" when accuracy is not a metric
  bool from_logits_ = false, split_softmax_ = false;
  std::ostream* out_ = nullptr;
  History history_;
};

}  // namespace mox::nn::keras
