#include "zoo/mobilenet.h"

#include <algorithm>
#include <cmath>

#include "zoo/image_input.h"

namespace mox::zoo {
namespace {

std::shared_ptr<nn::Linear> make_logits(int64_t in, const NetOptions& o, nn::Initializer init) {
  MOX_CHECK(o.num_classes > 0, "mobilenet", "num_classes must be positive, got ", o.num_classes);
  return std::make_shared<nn::Linear>(
      in, o.num_classes, nn::LinearOptions{.weight_init = init, .weight_decay = o.weight_decay});
}

NetOutput classify(const Tensor& features, nn::Dropout& dropout, nn::Linear& logits,
                   EndPoints end_points) {
  Tensor pooled = global_avg_pool2d(features);
  end_points["global_pool"] = pooled;
  Tensor out = logits.forward(dropout.forward(pooled));
  end_points["logits"] = out;
  end_points["predictions"] = softmax(out, 1);
  return {out, std::move(end_points)};
}

// ---- v1 (TF-slim's mobilenet_v1.py)

struct V1Layer {
  int64_t stride, depth;
};
// Conv2d_0 (a full 3x3 conv) and the 13 depthwise-separable blocks.
constexpr V1Layer kV1Layers[] = {{2, 32},  {1, 64},  {2, 128}, {1, 128}, {2, 256},
                                 {1, 256}, {2, 512}, {1, 512}, {1, 512}, {1, 512},
                                 {1, 512}, {1, 512}, {2, 1024}, {1, 1024}};

// TF-slim's mobilenet_v1_arg_scope: batch norm decay 0.9997 (momentum 0.0003 in PyTorch's
// convention), epsilon 0.001, relu6; the depthwise weights are not regularized.
ConvBnOptions v1_conv(int64_t kernel, int64_t stride, int64_t groups, double weight_decay) {
  return {.kernel_h = kernel, .kernel_w = kernel, .stride = stride, .groups = groups,
          .activation = "relu6", .bn_eps = 1e-3, .bn_momentum = 3e-4,
          .weight_decay = groups == 1 ? weight_decay : 0};
}

// ---- v2 (torchvision's mobilenetv2.py)

// One inverted residual: 1x1 expand (when expand_ratio > 1), 3x3 depthwise, 1x1 linear
// projection; the input is added back when the shape is kept.
class InvertedResidual : public nn::Module {
 public:
  InvertedResidual(int64_t in, int64_t out, int64_t stride, int64_t expand_ratio,
                   double weight_decay)
      : residual_(stride == 1 && in == out) {
    const int64_t hidden = in * expand_ratio;
    auto conv = [&](int64_t kernel, int64_t s, int64_t groups, const char* act) {
      return ConvBnOptions{.kernel_h = kernel, .kernel_w = kernel, .stride = s, .groups = groups,
                           .activation = act, .weight_decay = groups == 1 ? weight_decay : 0};
    };
    if (expand_ratio != 1)
      expand_ = register_module("expand", std::make_shared<ConvBn>(in, hidden, conv(1, 1, 1, "relu6")));
    depthwise_ = register_module(
        "depthwise", std::make_shared<ConvBn>(hidden, hidden, conv(3, stride, hidden, "relu6")));
    project_ =
        register_module("project", std::make_shared<ConvBn>(hidden, out, conv(1, 1, 1, "linear")));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = expand_ ? expand_->forward(x) : x;
    y = project_->forward(depthwise_->forward(y));
    return residual_ ? x + y : y;
  }
  std::string type_name() const override { return "InvertedResidual"; }

 private:
  bool residual_;
  std::shared_ptr<ConvBn> expand_, depthwise_, project_;
};

struct V2Stage {
  int64_t expand_ratio, channels, repeats, stride;  // torchvision's t, c, n, s
};
constexpr V2Stage kV2Stages[] = {{1, 16, 1, 1},  {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1},  {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

int64_t make_divisible(double v, int64_t divisor) {
  int64_t rounded = std::max(divisor, int64_t(v + double(divisor) / 2) / divisor * divisor);
  if (double(rounded) < 0.9 * v) rounded += divisor;
  return rounded;
}

MobileNetV1::MobileNetV1(double depth_multiplier, const NetOptions& o) {
  MOX_CHECK(depth_multiplier > 0, "mobilenet_v1", "depth_multiplier must be positive, got ",
            depth_multiplier);
  auto depth = [&](int64_t d) { return std::max<int64_t>(int64_t(d * depth_multiplier), 8); };
  auto add = [&](const std::string& name, int64_t in, int64_t out, ConvBnOptions c) {
    layers_.emplace_back(name, register_module(name, std::make_shared<ConvBn>(in, out, c)));
  };
  int64_t in = depth(kV1Layers[0].depth);
  add("Conv2d_0", 3, in, v1_conv(3, kV1Layers[0].stride, 1, o.weight_decay));
  for (size_t i = 1; i < std::size(kV1Layers); ++i) {
    const std::string prefix = "Conv2d_" + std::to_string(i);
    const int64_t out = depth(kV1Layers[i].depth);
    add(prefix + "_depthwise", in, in, v1_conv(3, kV1Layers[i].stride, in, o.weight_decay));
    add(prefix + "_pointwise", in, out, v1_conv(1, 1, 1, o.weight_decay));
    in = out;
  }
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(0.001));  // keep_prob 0.999
  logits_ = register_module("logits", make_logits(in, o, nn::init::truncated_normal(0, 0.09)));
}

NetOutput MobileNetV1::forward_with_end_points(const Tensor& images) {
  check_min_image_input("mobilenet_v1", images, 3, 1);
  EndPoints end_points;
  Tensor x = images;
  for (auto& [name, layer] : layers_) end_points[name] = x = layer->forward(x);
  return classify(x, *dropout_, *logits_, std::move(end_points));
}

MobileNetV2::MobileNetV2(double width_mult, const NetOptions& o) {
  MOX_CHECK(width_mult > 0, "mobilenet_v2", "width_mult must be positive, got ", width_mult);
  auto add = [&](const std::string& name, nn::ModulePtr m) {
    layers_.emplace_back(name, register_module(name, std::move(m)));
  };
  auto conv = [&](int64_t kernel, int64_t stride) {
    return ConvBnOptions{.kernel_h = kernel, .kernel_w = kernel, .stride = stride,
                         .activation = "relu6", .weight_decay = o.weight_decay};
  };
  int64_t in = make_divisible(32 * width_mult);
  add("Conv", std::make_shared<ConvBn>(3, in, conv(3, 2)));
  int block = 0;
  for (const V2Stage& s : kV2Stages) {
    const int64_t out = make_divisible(double(s.channels) * width_mult);
    for (int64_t r = 0; r < s.repeats; ++r, ++block) {
      add(block == 0 ? "expanded_conv" : "expanded_conv_" + std::to_string(block),
          std::make_shared<InvertedResidual>(in, out, r == 0 ? s.stride : 1, s.expand_ratio,
                                             o.weight_decay));
      in = out;
    }
  }
  const int64_t last = make_divisible(1280 * std::max(1.0, width_mult));
  add("Conv_1", std::make_shared<ConvBn>(in, last, conv(1, 1)));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(0.2));
  logits_ = register_module("logits", make_logits(last, o, nn::init::normal(0, 0.01)));
}

NetOutput MobileNetV2::forward_with_end_points(const Tensor& images) {
  check_min_image_input("mobilenet_v2", images, 3, 1);
  EndPoints end_points;
  Tensor x = images;
  for (auto& [name, layer] : layers_) end_points[name] = x = layer->forward(x);
  return classify(x, *dropout_, *logits_, std::move(end_points));
}

namespace {

// The registry's table holds the manual's metas; a registration adds the builder and the
// description.
template <class Net>
ModelRegistration reg(const std::string& name, double multiplier, const std::string& what) {
  ModelMeta meta;
  meta.name = name;
  meta.description = what;
  return ModelRegistration(meta, [multiplier](const NetOptions& o) {
    return std::make_shared<Net>(multiplier, o);
  });
}

const ModelRegistration kRegistered[] = {
    reg<MobileNetV1>("mobilenet_v1", 1.0, "MobileNet v1 (TF-slim), depth multiplier 1.0"),
    reg<MobileNetV1>("mobilenet_v1_075", 0.75, "MobileNet v1 (TF-slim), depth multiplier 0.75"),
    reg<MobileNetV1>("mobilenet_v1_050", 0.5, "MobileNet v1 (TF-slim), depth multiplier 0.5"),
    reg<MobileNetV1>("mobilenet_v1_025", 0.25, "MobileNet v1 (TF-slim), depth multiplier 0.25"),
    reg<MobileNetV2>("mobilenet_v2", 1.0, "MobileNet v2 (torchvision), width 1.0"),
    reg<MobileNetV2>("mobilenet_v2_140", 1.4, "MobileNet v2 (torchvision), width 1.4"),
    reg<MobileNetV2>("mobilenet_v2_035", 0.35, "MobileNet v2 (torchvision), width 0.35"),
};

}  // namespace
}  // namespace mox::zoo
