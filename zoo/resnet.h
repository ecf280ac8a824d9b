// The ResNet family: resnet_v1_18/50/101/152/200, resnet_v2_50/101/152/200,
// resnext_b_50/101 and resnext_c_50/101 for ImageNet, resnet_v1_20/110 for CIFAR.
//
// Architectures follow torchvision where torchvision has the model, so parameter counts equal
// torchvision's and its weights load with tests/ref/torchvision_models.py's rename table:
// - v1 is "ResNet v1.5": the stride of a stage's first unit is on its 3x3 conv (TF-slim's
//   resnet_v1 puts it on the first 1x1 conv and downsamples in the *last* unit of a stage);
//   the stem is a 7x7/2 conv with padding 3 and a 3x3/2 max pool with padding 1 (TF-slim pads
//   'SAME', asymmetrically at stride 2); the classifier is a dense layer after global average
//   pooling (TF-slim uses a 1x1 conv, the same parameters).
// - resnext_b_N and resnext_c_N: the ResNeXt paper's forms (b) (split paths, concatenated
//   before the last 1x1 conv) and (c) (grouped 3x3 conv) compute the same function with the
//   same parameters; Mox builds both with the grouped conv, so both are torchvision's
//   resnext50_32x4d (N = 50) and resnext101_32x8d (N = 101).
// - v2 is the pre-activation ResNet (He et al., "Identity Mappings"; TF-slim's resnet_v2):
//   bare 7x7/2 stem conv, units BN-ReLU first with the shortcut's 1x1 projection taken from
//   the pre-activation, a final BN-ReLU ("postnorm"). As in v1 the stride sits on the 3x3 conv
//   of a stage's first unit (the paper's code does so). Convs carry no bias: each output
//   reaches a batch norm that removes a per-channel constant (TF-slim keeps biases there).
// - resnet_v1_20/110: the CIFAR ResNets of the ResNet paper (3 stages of 16/32/64 channels,
//   3 or 18 basic units each) with its option-A shortcut (subsample, zero-pad channels), so
//   they have the paper's 0.27M / 1.7M parameters.
// - resnet_v1_200 and resnet_v2_200 stack 3, 24, 36, 3 bottleneck units (TF-slim).
//
// Parameter names: stem "conv1", stages "block1".."block4" of "unit_1".., units' convs
// "conv1".."conv3" (ConvBn: conv.* and bn.*), projections "shortcut", v2's final norm
// "postnorm", classifier "logits". End points: conv1, pool1, block1..blockN, postnorm (v2),
// global_pool, logits, predictions (softmax).
#pragma once
#include <vector>

#include "nn/layers.h"
#include "zoo/zoo.h"

namespace mox::zoo {

struct ResNetSpec {
  enum class Kind { v1, v2, cifar } kind = Kind::v1;
  bool bottleneck = true;
  std::vector<int64_t> units;     // units per stage
  int64_t groups = 1;             // ResNeXt's cardinality
  int64_t width_per_group = 64;   // ResNeXt's bottleneck width per group (64: plain ResNet)
};

class ResNet : public Network {
 public:
  ResNet(const ResNetSpec& spec, const NetOptions& options);
  NetOutput forward_with_end_points(const Tensor& images) override;
  std::string type_name() const override { return "ResNet"; }

 private:
  ResNetSpec spec_;
  nn::ModulePtr stem_;
  std::vector<nn::ModulePtr> stages_;
  std::shared_ptr<nn::BatchNorm2d> postnorm_;  // v2 only
  std::shared_ptr<nn::Linear> logits_;
};

}  // namespace mox::zoo
