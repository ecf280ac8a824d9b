// LeNet as TF-slim defines it for MNIST: conv1 5x5 (32, same padding, ReLU), 2x2 max pool,
// conv2 5x5 (64), pool, flatten, fc3 (1024, ReLU), dropout 0.5, "logits". Weights start at
// truncated N(0, 0.1), biases at 0. Single-channel 28x28 images only (fc3 is sized for them).
#include "nn/layers.h"
#include "zoo/image_input.h"

namespace mox::zoo {
namespace {

constexpr int64_t kImageSize = 28;

class LeNet : public Network {
 public:
  explicit LeNet(const NetOptions& o) {
    fixed_image_size("lenet", o, kImageSize);
    const nn::Initializer w = nn::init::truncated_normal(0, 0.1);
    auto conv = [&](const char* name, int64_t in, int64_t out) {
      return register_module(
          name, std::make_shared<nn::Conv2d>(in, out, 5,
                                             nn::ConvOptions{.padding = 2,
                                                             .activation = "relu",
                                                             .weight_init = w,
                                                             .weight_decay = o.weight_decay}));
    };
    auto dense = [&](const char* name, int64_t in, int64_t out, const char* activation) {
      return register_module(name, std::make_shared<nn::Linear>(
                                       in, out,
                                       nn::LinearOptions{.activation = activation,
                                                         .weight_init = w,
                                                         .weight_decay = o.weight_decay}));
    };
    conv1_ = conv("conv1", 1, 32);
    conv2_ = conv("conv2", 32, 64);
    fc3_ = dense("fc3", 64 * (kImageSize / 4) * (kImageSize / 4), 1024, "relu");
    logits_ = dense("logits", 1024, o.num_classes, "linear");
  }

  NetOutput forward_with_end_points(const Tensor& images) override {
    check_image_input("lenet", images, 1, kImageSize, kImageSize);
    NetOutput out;
    auto& ep = out.end_points;
    Tensor x = ep["conv1"] = conv1_->forward(images);
    x = ep["pool1"] = max_pool2d(x, {.kernel = {2, 2}});
    x = ep["conv2"] = conv2_->forward(x);
    x = ep["pool2"] = max_pool2d(x, {.kernel = {2, 2}});
    x = ep["fc3"] = fc3_->forward(x.flatten(1));
    out.logits = ep["logits"] = logits_->forward(dropout(x, 0.5, is_training()));
    ep["predictions"] = softmax(out.logits, -1);
    return out;
  }
  std::string type_name() const override { return "LeNet"; }

 private:
  nn::ModulePtr conv1_, conv2_, fc3_, logits_;
};

const ModelRegistration kLeNet({.name = "lenet",
                                .default_image_size = kImageSize,
                                .default_labels_offset = 0,
                                .preprocessing = "lenet_preprocessing",
                                .supported = true,
                                .description = "LeNet (TF-slim) for 28x28 single-channel images"},
                               [](const NetOptions& o) { return std::make_shared<LeNet>(o); });

}  // namespace
}  // namespace mox::zoo
