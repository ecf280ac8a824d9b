// Layers. Sizes that depend on the input (Dense's input features, Conv2D's input channels,
// BatchNorm's features) may be left as -1: the layer then creates its parameters at its first
// forward, like a Keras layer without input_shape (Sequential::build runs that forward).
#pragma once
#include <functional>

#include "nn/init.h"
#include "nn/module.h"

namespace mox::nn {

// Applies an activation by Keras name: linear (none), relu, relu6, sigmoid, tanh, elu,
// leaky_relu, gelu, softplus, softmax, log_softmax. Unknown names raise mox::Error.
Tensor activate(const std::string& name, const Tensor& x);
// Raises mox::Error naming layer when name is not an activation.
void check_activation(const std::string& name, const char* layer);

struct LinearOptions {
  bool bias = true;
  std::string activation = "linear";
  Initializer weight_init = init::glorot_uniform();
  Initializer bias_init = init::zeros();
  double weight_decay = 0;
};

// Dense / Linear: y = activation(x W^T + b); W is [out, in].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Dense"; }
  const std::string& activation() const { return o_.activation; }
  Tensor weight, bias;

 private:
  void build(int64_t in_features);
  int64_t in_, out_;
  LinearOptions o_;
};

struct ConvOptions {
  int64_t stride = 1;
  int64_t padding = 0;  // or use same_padding
  bool same_padding = false;  // Keras padding='same' (stride 1, odd kernels)
  int64_t kernel_w = 0;   // > 0: a kernel_size x kernel_w kernel (Inception's 1x7, 7x1)
  int64_t padding_w = -1;  // >= 0: the width padding, when it differs from padding
  int64_t dilation = 1;
  int64_t groups = 1;
  bool bias = true;
  std::string activation = "linear";
  Initializer weight_init = init::glorot_uniform();
  Initializer bias_init = init::zeros();
  double weight_decay = 0;
};

class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, ConvOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Conv2D"; }
  Tensor weight, bias;

 private:
  void build(int64_t in_channels);
  int64_t in_, out_, kh_, kw_;
  ConvOptions o_;
};

class BatchNorm2d : public Module {
 public:
  // momentum as PyTorch: running = (1 - momentum) * running + momentum * batch.
  explicit BatchNorm2d(int64_t num_features, double momentum = 0.1, double eps = 1e-5);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "BatchNormalization"; }
  Tensor weight, bias, running_mean, running_var;

 private:
  void build(int64_t features);
  int64_t features_;
  double momentum_, eps_;
};

class Activation : public Module {
 public:
  explicit Activation(std::string name);
  Tensor forward(const Tensor& x) override { return activate(name_, x); }
  std::string type_name() const override { return "Activation"; }
  const std::string& activation() const { return name_; }

 private:
  std::string name_;
};
inline std::shared_ptr<Activation> ReLU() { return std::make_shared<Activation>("relu"); }

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override { return max_pool2d(x, o_); }
  std::string type_name() const override { return "MaxPooling2D"; }

 private:
  Pool2dOptions o_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, o_); }
  std::string type_name() const override { return "AveragePooling2D"; }

 private:
  Pool2dOptions o_;
};

class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override { return global_avg_pool2d(x); }
  std::string type_name() const override { return "GlobalAveragePooling2D"; }
};

class Dropout : public Module {
 public:
  explicit Dropout(double rate);
  Tensor forward(const Tensor& x) override { return dropout(x, rate_, is_training()); }
  std::string type_name() const override { return "Dropout"; }

 private:
  double rate_;
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return x.flatten(1); }
  std::string type_name() const override { return "Flatten"; }
};

// Runs every branch on the same input and concatenates the results along dim (channels by
// default), as an Inception block does.
class Concat : public Module {
 public:
  explicit Concat(std::vector<ModulePtr> branches, int64_t dim = 1);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Concatenate"; }

 private:
  int64_t dim_;
};

}  // namespace mox::nn
