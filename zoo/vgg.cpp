// VGG (Simonyan & Zisserman, 2014) as torchvision's vgg11 / vgg16 / vgg19 (and _bn) build it,
// under the manual's names vgg_a, vgg_16, vgg_19 (vgg_a_bn, ...): 3x3 convs with biases (and
// batch norm in the _bn variants) in five stages of 64..512 channels, each closed by a 2x2 max
// pool, then fc6 / fc7 (4096, ReLU, dropout 0.5) and the classifier "logits".
//
// Parameters: conv<stage>_<i>.conv.{weight,bias} (+ .bn.* in _bn variants), fc6.*, fc7.*,
// logits.*; torchvision's features.<k> / classifier.{0,3,6} map onto them one to one.
// The dense layers fix the input at 224x224 (torchvision's adaptive 7x7 average pool is the
// identity there).
#include <vector>

#include "nn/layers.h"
#include "zoo/image_input.h"

namespace mox::zoo {
namespace {

constexpr int64_t kImageSize = 224;
constexpr int64_t kStageChannels[] = {64, 128, 256, 512, 512};

// 3x3 conv with a bias even before batch norm, as torchvision's VGG (ConvBn drops it).
class VggConv : public nn::Module {
 public:
  VggConv(int64_t in, int64_t out, bool batch_norm, double weight_decay) {
    conv_ = register_module("conv", std::make_shared<nn::Conv2d>(
                                        in, out, 3,
                                        nn::ConvOptions{.padding = 1,
                                                        .weight_init = nn::init::he_normal(),
                                                        .weight_decay = weight_decay}));
    if (batch_norm) bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(out));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = conv_->forward(x);
    return relu(bn_ ? bn_->forward(y) : y);
  }
  std::string type_name() const override { return "VggConv"; }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
};

class Vgg : public Network {
 public:
  // convs_per_stage: {1,1,2,2,2} (vgg_a), {2,2,3,3,3} (vgg_16), {2,2,4,4,4} (vgg_19).
  Vgg(std::string name, const std::vector<int>& convs_per_stage, bool batch_norm,
      const NetOptions& options);
  NetOutput forward_with_end_points(const Tensor& images) override;
  std::string type_name() const override { return "Vgg"; }

 private:
  std::string name_;
  std::vector<std::vector<nn::ModulePtr>> stages_;
  nn::ModulePtr fc6_, fc7_, logits_;
};

Vgg::Vgg(std::string name, const std::vector<int>& convs_per_stage, bool batch_norm,
         const NetOptions& o)
    : name_(std::move(name)) {
  MOX_CHECK(convs_per_stage.size() == 5, name_, "needs 5 stages, got ", convs_per_stage.size());
  fixed_image_size(name_, o, kImageSize);
  int64_t in = 3;
  for (size_t s = 0; s < convs_per_stage.size(); ++s) {
    stages_.emplace_back();
    for (int i = 0; i < convs_per_stage[s]; ++i) {
      std::string layer = "conv" + std::to_string(s + 1) + "_" + std::to_string(i + 1);
      stages_.back().push_back(register_module(
          layer, std::make_shared<VggConv>(in, kStageChannels[s], batch_norm, o.weight_decay)));
      in = kStageChannels[s];
    }
  }
  // torchvision's classifier initialization: N(0, 0.01) weights, zero biases.
  auto dense = [&](const char* activation) {
    return nn::LinearOptions{.activation = activation,
                             .weight_init = nn::init::normal(0, 0.01),
                             .weight_decay = o.weight_decay};
  };
  int64_t side = kImageSize >> 5;  // five 2x2 pools
  fc6_ = register_module("fc6", std::make_shared<nn::Linear>(in * side * side, 4096,
                                                             dense("relu")));
  fc7_ = register_module("fc7", std::make_shared<nn::Linear>(4096, 4096, dense("relu")));
  logits_ = register_module("logits", std::make_shared<nn::Linear>(
                                          4096, o.num_classes, dense("linear")));
}

NetOutput Vgg::forward_with_end_points(const Tensor& images) {
  check_image_input(name_, images, 3, kImageSize, kImageSize);
  NetOutput out;
  Tensor x = images;
  for (size_t s = 0; s < stages_.size(); ++s) {
    for (auto& conv : stages_[s]) x = conv->forward(x);
    std::string stage = std::to_string(s + 1);
    out.end_points["conv" + stage] = x;
    x = max_pool2d(x, {.kernel = {2, 2}});
    out.end_points["pool" + stage] = x;
  }
  x = dropout(fc6_->forward(x.flatten(1)), 0.5, is_training());
  out.end_points["fc6"] = x;
  x = dropout(fc7_->forward(x), 0.5, is_training());
  out.end_points["fc7"] = x;
  out.logits = logits_->forward(x);
  out.end_points["logits"] = out.logits;
  out.end_points["predictions"] = softmax(out.logits, -1);
  return out;
}

void register_vgg(const char* name, std::vector<int> stages, bool batch_norm, const char* about) {
  ModelMeta meta{.name = name,
                 .default_image_size = kImageSize,
                 .default_labels_offset = 1,
                 .preprocessing = "vgg_preprocessing",
                 .supported = true,
                 .description = about};
  ModelRegistration(meta, [name, stages, batch_norm](const NetOptions& o) {
    return std::make_shared<Vgg>(name, stages, batch_norm, o);
  });
}

const bool kRegistered = [] {
  register_vgg("vgg_a", {1, 1, 2, 2, 2}, false, "VGG-11 (configuration A), torchvision's vgg11");
  register_vgg("vgg_16", {2, 2, 3, 3, 3}, false, "VGG-16 (configuration D), torchvision's vgg16");
  register_vgg("vgg_19", {2, 2, 4, 4, 4}, false, "VGG-19 (configuration E), torchvision's vgg19");
  register_vgg("vgg_a_bn", {1, 1, 2, 2, 2}, true, "VGG-11 with batch norm, torchvision's vgg11_bn");
  register_vgg("vgg_16_bn", {2, 2, 3, 3, 3}, true, "VGG-16 with batch norm, torchvision's vgg16_bn");
  register_vgg("vgg_19_bn", {2, 2, 4, 4, 4}, true, "VGG-19 with batch norm, torchvision's vgg19_bn");
  return true;
}();

}  // namespace
}  // namespace mox::zoo
