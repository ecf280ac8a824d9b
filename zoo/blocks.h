// Building blocks the zoo's networks share.
#pragma once
#include <string>

#include "nn/layers.h"

namespace mox::zoo {

struct ConvBnOptions {
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride = 1;
  int64_t pad_h = -1, pad_w = -1;  // -1: kernel / 2 ("same" for odd kernels at stride 1)
  int64_t groups = 1;
  bool batch_norm = true;          // false: a biased conv, as VGG and AlexNet use
  std::string activation = "relu";  // any nn::activate name; "linear" for none
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;        // PyTorch's convention (see nn::BatchNorm2d)
  double weight_decay = 0;         // on the conv weight only
};

// conv (rectangular kernels allowed) -> batch norm -> activation, with parameters named
// "conv.weight" (+ "conv.bias" without batch norm) and "bn.*" like torchvision's BasicConv2d.
class ConvBn : public nn::Module {
 public:
  ConvBn(int64_t in_channels, int64_t out_channels, ConvBnOptions o = {});
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "ConvBn"; }

 private:
  std::shared_ptr<nn::Conv2d> conv_;
  std::shared_ptr<nn::BatchNorm2d> bn_;
  ConvBnOptions o_;
};

}  // namespace mox::zoo
