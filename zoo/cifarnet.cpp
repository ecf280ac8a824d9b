// CifarNet as TF-slim defines it for CIFAR-10: conv1 5x5 (64, same padding, ReLU), 2x2 max
// pool, local response norm, conv2 5x5 (64), LRN, pool, flatten, fc3 (384, ReLU), dropout 0.5,
// fc4 (192, ReLU), "logits". Conv weights start at truncated N(0, 0.05), dense weights at
// truncated N(0, 0.04) with biases 0.1, the logits at truncated N(0, 1/192) with zero biases
// and no weight decay. RGB 32x32 images only (fc3 is sized for them).
#include "nn/layers.h"
#include "zoo/image_input.h"

namespace mox::zoo {
namespace {

constexpr int64_t kImageSize = 32;

// tf.nn.lrn(x, depth_radius=4, bias=1, alpha=0.001/9, beta=0.75):
// x / (1 + alpha * sum of x^2 over the 9 channels around each one)^0.75. The channel window sum
// is a 9x1 average pool over a [N, 1, C, H*W] view (zero padded, padding counted) times 9.
Tensor local_response_norm(const Tensor& x) {
  constexpr int64_t radius = 4;
  constexpr double alpha = 0.001 / 9.0, beta = 0.75;
  const Shape& s = x.sizes();
  Tensor sq = (x * x).reshape({s[0], 1, s[1], s[2] * s[3]});
  Tensor window_mean = avg_pool2d(sq, {.kernel = {2 * radius + 1, 1},
                                       .stride = {1, 1},
                                       .padding = {radius, 0},
                                       .count_include_pad = true});
  Tensor denom = window_mean.reshape(s) * (alpha * (2 * radius + 1)) + 1.0;
  return x * pow(denom, -beta);
}

class CifarNet : public Network {
 public:
  explicit CifarNet(const NetOptions& o) {
    fixed_image_size("cifarnet", o, kImageSize);
    auto conv = [&](const char* name, int64_t in) {
      return register_module(name, std::make_shared<nn::Conv2d>(
                                       in, 64, 5,
                                       nn::ConvOptions{.padding = 2,
                                                       .activation = "relu",
                                                       .weight_init = nn::init::truncated_normal(0, 0.05),
                                                       .weight_decay = o.weight_decay}));
    };
    auto dense = [&](const char* name, int64_t in, int64_t out) {
      return register_module(name, std::make_shared<nn::Linear>(
                                       in, out,
                                       nn::LinearOptions{.activation = "relu",
                                                         .weight_init = nn::init::truncated_normal(0, 0.04),
                                                         .bias_init = nn::init::constant(0.1),
                                                         .weight_decay = o.weight_decay}));
    };
    conv1_ = conv("conv1", 3);
    conv2_ = conv("conv2", 64);
    fc3_ = dense("fc3", 64 * (kImageSize / 4) * (kImageSize / 4), 384);
    fc4_ = dense("fc4", 384, 192);
    logits_ = register_module(
        "logits", std::make_shared<nn::Linear>(
                      192, o.num_classes,
                      nn::LinearOptions{.weight_init = nn::init::truncated_normal(0, 1 / 192.0)}));
  }

  NetOutput forward_with_end_points(const Tensor& images) override {
    check_image_input("cifarnet", images, 3, kImageSize, kImageSize);
    NetOutput out;
    auto& ep = out.end_points;
    Tensor x = ep["conv1"] = conv1_->forward(images);
    x = ep["pool1"] = max_pool2d(x, {.kernel = {2, 2}});
    x = ep["conv2"] = conv2_->forward(local_response_norm(x));
    x = ep["pool2"] = max_pool2d(local_response_norm(x), {.kernel = {2, 2}});
    x = ep["fc3"] = fc3_->forward(x.flatten(1));
    x = ep["fc4"] = fc4_->forward(dropout(x, 0.5, is_training()));
    out.logits = ep["logits"] = logits_->forward(x);
    ep["predictions"] = softmax(out.logits, -1);
    return out;
  }
  std::string type_name() const override { return "CifarNet"; }

 private:
  nn::ModulePtr conv1_, conv2_, fc3_, fc4_, logits_;
};

const ModelRegistration kCifarNet(
    {.name = "cifarnet",
     .default_image_size = kImageSize,
     .default_labels_offset = 0,
     .preprocessing = "cifarnet_preprocessing",
     .supported = true,
     .description = "CifarNet (TF-slim) for 32x32 RGB images, with local response norm"},
    [](const NetOptions& o) { return std::make_shared<CifarNet>(o); });

}  // namespace
}  // namespace mox::zoo
