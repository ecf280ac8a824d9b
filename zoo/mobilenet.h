// MobileNets. mobilenet_v1 (and _075, _050, _025) is TF-slim's MobileNet v1: a 3x3 conv then 13
// depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, each with batch norm and relu6),
// channels scaled by a depth multiplier. mobilenet_v2 (and _140, _035) is torchvision's
// mobilenet_v2(width_mult): inverted residuals with linear bottlenecks, channels rounded to
// multiples of 8, so its parameters are torchvision's one for one (tests/ref/torchvision_models.py
// exports them) and the last 1x1 conv keeps 1280 channels below width 1, as TF-slim's
// finegrain_classification_mode does. Both end in global average pooling, dropout and a dense
// classifier named "logits"; inputs of any size (at least 1x1) work.
//
// Parameter and end point names follow TF-slim's scopes: v1 "Conv2d_0", "Conv2d_<i>_depthwise",
// "Conv2d_<i>_pointwise" (i = 1..13); v2 "Conv", "expanded_conv", "expanded_conv_<i>"
// (i = 1..16, each with "expand" (absent in the first), "depthwise" and "project"), "Conv_1";
// then "global_pool", "logits" and "predictions" (softmax) for both.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "zoo/blocks.h"
#include "zoo/zoo.h"

namespace mox::zoo {

class MobileNetV1 : public Network {
 public:
  MobileNetV1(double depth_multiplier, const NetOptions& options);
  NetOutput forward_with_end_points(const Tensor& images) override;
  std::string type_name() const override { return "MobileNetV1"; }

 private:
  std::vector<std::pair<std::string, std::shared_ptr<ConvBn>>> layers_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> logits_;
};

class MobileNetV2 : public Network {
 public:
  MobileNetV2(double width_mult, const NetOptions& options);
  NetOutput forward_with_end_points(const Tensor& images) override;
  std::string type_name() const override { return "MobileNetV2"; }

 private:
  std::vector<std::pair<std::string, nn::ModulePtr>> layers_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> logits_;
};

// torchvision's (and TF-slim's) _make_divisible: v rounded to the nearest multiple of divisor,
// at least divisor, and never more than 10% below v.
int64_t make_divisible(double v, int64_t divisor = 8);

}  // namespace mox::zoo
