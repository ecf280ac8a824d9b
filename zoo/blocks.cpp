#include "zoo/blocks.h"

namespace mox::zoo {

ConvBn::ConvBn(int64_t in_channels, int64_t out_channels, ConvBnOptions o) : o_(std::move(o)) {
  nn::ConvOptions c;
  c.stride = o_.stride;
  c.padding = o_.pad_h >= 0 ? o_.pad_h : o_.kernel_h / 2;
  c.padding_w = o_.pad_w >= 0 ? o_.pad_w : o_.kernel_w / 2;
  c.kernel_w = o_.kernel_w;
  c.groups = o_.groups;
  c.bias = !o_.batch_norm;
  c.weight_init = nn::init::he_normal();
  c.weight_decay = o_.weight_decay;
  conv_ = register_module("conv", std::make_shared<nn::Conv2d>(in_channels, out_channels,
                                                               o_.kernel_h, c));
  if (o_.batch_norm)
    bn_ = register_module("bn", std::make_shared<nn::BatchNorm2d>(out_channels, o_.bn_momentum,
                                                                  o_.bn_eps));
  nn::check_activation(o_.activation, "ConvBn");
}

Tensor ConvBn::forward(const Tensor& x) {
  Tensor y = conv_->forward(x);
  if (bn_) y = bn_->forward(y);
  return nn::activate(o_.activation, y);
}

}  // namespace mox::zoo
