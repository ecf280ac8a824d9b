#include "nn/layers.h"

#include <algorithm>

#include "nn/var_scope.h"

namespace mox::nn {

static const char* kActivations =
    "linear, relu, relu6, sigmoid, tanh, elu, leaky_relu, gelu, softplus, softmax, log_softmax";

void check_activation(const std::string& name, const char* layer) {
  static const std::vector<std::string> known = {"linear", "", "relu", "relu6", "sigmoid", "tanh", "elu",
                                                 "leaky_relu", "gelu", "softplus", "softmax", "log_softmax"};
  MOX_CHECK(std::find(known.begin(), known.end(), name) != known.end(), layer,
            "unknown activation '", name, "' (", kActivations, ")");
}

// Layers validate their activation when built, so the per-step path only compares names;
// the lookup in check_activation runs just for names that match none of them.
Tensor activate(const std::string& name, const Tensor& x) {
  if (name == "linear" || name.empty()) return x;
  if (name == "relu") return relu(x);
  if (name == "relu6") return relu6(x);
  if (name == "sigmoid") return sigmoid(x);
  if (name == "tanh") return tanh(x);
  if (name == "elu") return elu(x);
  if (name == "leaky_relu") return leaky_relu(x, 0.2);  // Keras LeakyReLU default
  if (name == "gelu") return gelu(x);
  if (name == "softplus") return softplus(x);
  if (name == "softmax") return softmax(x, -1);
  check_activation(name, "activation");
  return log_softmax(x, -1);
}

// ---- Linear

Linear::Linear(int64_t in, int64_t out, LinearOptions o) : in_(in), out_(out), o_(std::move(o)) {
  MOX_CHECK(out > 0 && (in > 0 || in == -1), "Dense", "invalid sizes in=", in, " out=", out);
  check_activation(o_.activation, "Dense");  // now, not at the first step
  if (in > 0) build(in);
}

void Linear::build(int64_t in) {
  in_ = in;
  weight = register_parameter("weight", initialize(o_.weight_init, {out_, in}), o_.weight_decay);
  if (o_.bias) bias = register_parameter("bias", initialize(o_.bias_init, {out_}));
}

Tensor Linear::forward(const Tensor& x) {
  MOX_CHECK_T(ShapeError, x.dim() >= 1, "Dense", "input ", x.str(), " has no feature dim");
  if (!weight.defined()) build(x.size(-1));
  MOX_CHECK_T(ShapeError, x.size(-1) == in_, "Dense", "input ", x.str(), " has ", x.size(-1),
              " features, the layer expects ", in_);
  return activate(o_.activation, linear(x, read_variable(weight, x), read_variable(bias, x)));
}

// ---- Conv2d

Conv2d::Conv2d(int64_t in, int64_t out, int64_t k, ConvOptions o)
    : in_(in), out_(out), kh_(k), kw_(o.kernel_w > 0 ? o.kernel_w : k), o_(std::move(o)) {
  MOX_CHECK(out > 0 && k > 0 && (in > 0 || in == -1), "Conv2D", "invalid sizes in=", in,
            " out=", out, " kernel=", k, "x", kw_);
  check_activation(o_.activation, "Conv2D");
  if (in > 0) build(in);
}

void Conv2d::build(int64_t in) {
  in_ = in;
  MOX_CHECK_T(ShapeError, in % o_.groups == 0 && out_ % o_.groups == 0, "Conv2D", in, " input and ",
              out_, " output channels do not divide into ", o_.groups, " groups");
  weight = register_parameter("weight", initialize(o_.weight_init, {out_, in / o_.groups, kh_, kw_}),
                              o_.weight_decay);
  if (o_.bias) bias = register_parameter("bias", initialize(o_.bias_init, {out_}));
}

Tensor Conv2d::forward(const Tensor& x) {
  MOX_CHECK_T(ShapeError, x.dim() == 4, "Conv2D", "expects NCHW input, got ", x.str());
  if (!weight.defined()) build(x.size(1));
  ::mox::Conv2dOptions c;
  c.stride[0] = c.stride[1] = o_.stride;
  c.padding[0] = o_.same_padding ? o_.dilation * (kh_ - 1) / 2 : o_.padding;
  c.padding[1] = o_.same_padding ? o_.dilation * (kw_ - 1) / 2
                 : o_.padding_w >= 0 ? o_.padding_w : o_.padding;
  c.dilation[0] = c.dilation[1] = o_.dilation;
  c.groups = o_.groups;
  c.relu = o_.activation == "relu";  // fused into the convolution
  Tensor y = conv2d(x, read_variable(weight, x), read_variable(bias, x), c);
  return c.relu ? y : activate(o_.activation, y);
}

// ---- BatchNorm2d

BatchNorm2d::BatchNorm2d(int64_t features, double momentum, double eps)
    : features_(features), momentum_(momentum), eps_(eps) {
  MOX_CHECK(features > 0 || features == -1, "BatchNormalization", "invalid features ", features);
  if (features > 0) build(features);
}

void BatchNorm2d::build(int64_t c) {
  features_ = c;
  weight = register_parameter("weight", ones({c}));
  bias = register_parameter("bias", zeros({c}));
  running_mean = register_buffer("running_mean", zeros({c}));
  running_var = register_buffer("running_var", ones({c}));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  MOX_CHECK_T(ShapeError, x.dim() >= 2, "BatchNormalization", "input ", x.str(), " has no channel dim");
  if (!weight.defined()) build(x.size(1));
  return batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum_, eps_);
}

// ---- the rest

Activation::Activation(std::string name) : name_(std::move(name)) { check_activation(name_, "Activation"); }

static Pool2dOptions pool_options(int64_t k, int64_t s, int64_t p) {
  Pool2dOptions o;
  o.kernel[0] = o.kernel[1] = k;
  o.stride[0] = o.stride[1] = s;
  o.padding[0] = o.padding[1] = p;
  return o;
}
MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p) : o_(pool_options(k, s, p)) {}
AvgPool2d::AvgPool2d(int64_t k, int64_t s, int64_t p) : o_(pool_options(k, s, p)) {}

Dropout::Dropout(double rate) : rate_(rate) {
  MOX_CHECK(rate >= 0 && rate < 1, "Dropout", "rate must be in [0, 1), got ", rate);
}

Concat::Concat(std::vector<ModulePtr> branches, int64_t dim) : dim_(dim) {
  MOX_CHECK(!branches.empty(), "Concatenate", "needs at least one branch");
  for (size_t i = 0; i < branches.size(); ++i) register_module(std::to_string(i), branches[i]);
}

Tensor Concat::forward(const Tensor& x) {
  TensorList outs;
  for (auto& [name, branch] : children()) outs.push_back((*branch)(x));
  return concat(outs, dim_);
}

}  // namespace mox::nn
