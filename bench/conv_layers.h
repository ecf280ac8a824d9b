// The convolutions bench_conv times: every distinct convolution of ResNet-50 (torchvision v1.5,
// stride 2 in the 3x3 of each stage's first unit) at 224x224, and the seed CNN's layers with a
// depthwise one.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/onednn_conv.h"

namespace mox::bench {

struct ConvLayer {
  std::string name;
  std::string set;  // "resnet50" or "seed"
  ConvShape shape;
  int count;     // how many convolutions of the network have this shape
  bool need_dx;  // false for a first layer: its input is data, training wants no gradient of it
  double flop() const;  // one pass: 2 * N * OC * OH * OW * (C/groups) * K * K
  std::string shape_str() const;  // "32x64x56x56 -> 64 k3/1"
  nlohmann::json to_json() const;
};

// Every layer of every set, each at its set's default batch (ResNet-50: 32).
const std::vector<ConvLayer>& conv_layers();

}  // namespace mox::bench
