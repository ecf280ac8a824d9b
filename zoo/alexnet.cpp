// alexnet_v2 as TF-slim defines it (the "one weird trick" single-tower AlexNet, Krizhevsky 2014):
// conv1 11x11/4 (64, no padding), 3x3/2 max pool, conv2 5x5 (192), pool, conv3-conv5 3x3
// (384, 384, 256), pool, then the dense layers written as convolutions: fc6 5x5 (4096, no
// padding), fc7 1x1 (4096), each followed by dropout 0.5, and "logits" 1x1. ReLU after every
// layer but the logits; biases start at 0.1 (the logits' at 0), fc weights at N(0, 0.005).
// fc6's 5x5 kernel covers pool5's whole 5x5 map, so the input is fixed at 224x224.
#include "nn/layers.h"
#include "zoo/image_input.h"

namespace mox::zoo {
namespace {

constexpr int64_t kImageSize = 224;

class AlexNetV2 : public Network {
 public:
  explicit AlexNetV2(const NetOptions& o) {
    fixed_image_size("alexnet_v2", o, kImageSize);
    auto conv = [&](const char* name, int64_t in, int64_t out, int64_t k, nn::ConvOptions c) {
      c.activation = "relu";
      c.bias_init = nn::init::constant(0.1);
      c.weight_decay = o.weight_decay;
      return register_module(name, std::make_shared<nn::Conv2d>(in, out, k, c));
    };
    const nn::ConvOptions fc{.weight_init = nn::init::truncated_normal(0, 0.005)};
    conv1_ = conv("conv1", 3, 64, 11, {.stride = 4});
    conv2_ = conv("conv2", 64, 192, 5, {.padding = 2});
    conv3_ = conv("conv3", 192, 384, 3, {.padding = 1});
    conv4_ = conv("conv4", 384, 384, 3, {.padding = 1});
    conv5_ = conv("conv5", 384, 256, 3, {.padding = 1});
    fc6_ = conv("fc6", 256, 4096, 5, fc);
    fc7_ = conv("fc7", 4096, 4096, 1, fc);
    logits_ = register_module(
        "logits", std::make_shared<nn::Conv2d>(
                      4096, o.num_classes, 1,
                      nn::ConvOptions{.weight_init = nn::init::truncated_normal(0, 0.005),
                                      .weight_decay = o.weight_decay}));
  }

  NetOutput forward_with_end_points(const Tensor& images) override {
    check_image_input("alexnet_v2", images, 3, kImageSize, kImageSize);
    NetOutput out;
    auto& ep = out.end_points;
    auto pool = [](const Tensor& x) { return max_pool2d(x, {.kernel = {3, 3}, .stride = {2, 2}}); };
    Tensor x = ep["conv1"] = conv1_->forward(images);
    x = ep["pool1"] = pool(x);
    x = ep["conv2"] = conv2_->forward(x);
    x = ep["pool2"] = pool(x);
    x = ep["conv3"] = conv3_->forward(x);
    x = ep["conv4"] = conv4_->forward(x);
    x = ep["conv5"] = conv5_->forward(x);
    x = ep["pool5"] = pool(x);
    x = ep["fc6"] = dropout(fc6_->forward(x), 0.5, is_training());
    x = ep["fc7"] = dropout(fc7_->forward(x), 0.5, is_training());
    out.logits = ep["logits"] = logits_->forward(x).flatten(1);  // [N, classes, 1, 1] -> [N, classes]
    ep["predictions"] = softmax(out.logits, -1);
    return out;
  }
  std::string type_name() const override { return "AlexNetV2"; }

 private:
  nn::ModulePtr conv1_, conv2_, conv3_, conv4_, conv5_, fc6_, fc7_, logits_;
};

const ModelRegistration kAlexNetV2(
    {.name = "alexnet_v2",
     .default_image_size = kImageSize,
     .default_labels_offset = 1,
     .preprocessing = "vgg_preprocessing",
     .supported = true,
     .description = "AlexNet v2 (TF-slim): 5 convs, fc6/fc7 as convolutions, 224x224 only"},
    [](const NetOptions& o) { return std::make_shared<AlexNetV2>(o); });

}  // namespace
}  // namespace mox::zoo
