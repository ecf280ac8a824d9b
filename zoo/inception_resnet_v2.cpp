// inception_resnet_v2 (Szegedy et al., 2016) as TF-slim defines it, without the auxiliary head:
// the Inception v3-like stem to 35x35x192, Mixed_5b to 320 channels, 10 residual Inception
// blocks (block35, scale 0.17), a reduction to 17x17x1088 (Mixed_6a), 20 block17 (scale 0.10),
// a reduction to 8x8x2080 (Mixed_7a), 9 block8 (scale 0.20) and a last block8 without ReLU,
// Conv2d_7b_1x1 to 1536, average pooling, dropout 0.2 and the logits. Each residual block adds
// scale * (1x1 biased conv, no batch norm, of its concatenated branches) to its input.
// Strided convs and pools use no padding (TF's VALID); batch norm has a scale (gamma), which
// TF-slim leaves out (one extra parameter per channel of each conv).
//
// Parameters: <stage>.Branch_<b>.<i>.conv.weight / .bn.*; a residual block holds its branches
// under "mixed" and the projection under "up" (Repeat.<k>, Repeat_1.<k>, Repeat_2.<k>, Block8).
#include "zoo/inception_blocks.h"

namespace mox::zoo {
namespace {

using inception::chain;
using inception::mixed;
using nn::ModulePtr;

// x + scale * up(branches(x)), then ReLU unless last.
class Residual : public nn::Module {
 public:
  Residual(ModulePtr branches, int64_t branch_channels, int64_t channels, double scale, bool relu,
           double weight_decay)
      : scale_(scale), relu_(relu) {
    mixed_ = register_module("mixed", std::move(branches));
    up_ = register_module("up", std::make_shared<nn::Conv2d>(
                                    branch_channels, channels, 1,
                                    nn::ConvOptions{.weight_init = nn::init::he_normal(),
                                                    .weight_decay = weight_decay}));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = x + up_->forward(mixed_->forward(x)) * scale_;
    return relu_ ? relu(y) : y;
  }
  std::string type_name() const override { return "InceptionResidual"; }

 private:
  double scale_;
  bool relu_;
  ModulePtr mixed_, up_;
};

// 35x35x320: 32 | 32 -> 32 | 32 -> 48 -> 64.
ModulePtr block35(const inception::Convs& conv) {
  return std::make_shared<Residual>(
      mixed({conv(320, 32, 1), chain({conv(320, 32, 1), conv(32, 32, 3)}),
             chain({conv(320, 32, 1), conv(32, 48, 3), conv(48, 64, 3)})}),
      128, 320, 0.17, true, conv.weight_decay);
}

// 17x17x1088: 192 | 128 -> 1x7 160 -> 7x1 192.
ModulePtr block17(const inception::Convs& conv) {
  return std::make_shared<Residual>(
      mixed({conv(1088, 192, 1),
             chain({conv(1088, 128, 1), conv.rect(128, 160, 1, 7), conv.rect(160, 192, 7, 1)})}),
      384, 1088, 0.10, true, conv.weight_decay);
}

// 8x8x2080: 192 | 192 -> 1x3 224 -> 3x1 256.
ModulePtr block8(const inception::Convs& conv, bool relu) {
  return std::make_shared<Residual>(
      mixed({conv(2080, 192, 1),
             chain({conv(2080, 192, 1), conv.rect(192, 224, 1, 3), conv.rect(224, 256, 3, 1)})}),
      448, 2080, 0.20, relu, conv.weight_decay);
}

ModulePtr repeat(int n, const std::function<ModulePtr()>& make) {
  std::vector<ModulePtr> blocks;
  for (int i = 0; i < n; ++i) blocks.push_back(make());
  return chain(std::move(blocks));
}

std::shared_ptr<Network> build(const NetOptions& o) {
  inception::Convs conv{o.weight_decay};
  return std::make_shared<inception::InceptionNet>(
      "inception_resnet_v2", 75,
      std::vector<std::pair<std::string, ModulePtr>>{
          {"Conv2d_1a_3x3", conv(3, 32, 3, 2, 0)},
          {"Conv2d_2a_3x3", conv(32, 32, 3, 1, 0)},
          {"Conv2d_2b_3x3", conv(32, 64, 3)},
          {"MaxPool_3a_3x3", inception::max_pool(3, 2)},
          {"Conv2d_3b_1x1", conv(64, 80, 1)},
          {"Conv2d_4a_3x3", conv(80, 192, 3, 1, 0)},
          {"MaxPool_5a_3x3", inception::max_pool(3, 2)},
          {"Mixed_5b", mixed({conv(192, 96, 1), chain({conv(192, 48, 1), conv(48, 64, 5)}),
                              chain({conv(192, 64, 1), conv(64, 96, 3), conv(96, 96, 3)}),
                              chain({inception::avg_pool_3x3(false), conv(192, 64, 1)})})},
          {"Repeat", repeat(10, [&] { return block35(conv); })},
          {"Mixed_6a", mixed({conv(320, 384, 3, 2, 0),
                              chain({conv(320, 256, 1), conv(256, 256, 3), conv(256, 384, 3, 2, 0)}),
                              inception::max_pool(3, 2)})},
          {"Repeat_1", repeat(20, [&] { return block17(conv); })},
          {"Mixed_7a", mixed({chain({conv(1088, 256, 1), conv(256, 384, 3, 2, 0)}),
                              chain({conv(1088, 256, 1), conv(256, 288, 3, 2, 0)}),
                              chain({conv(1088, 256, 1), conv(256, 288, 3), conv(288, 320, 3, 2, 0)}),
                              inception::max_pool(3, 2)})},
          {"Repeat_2", repeat(9, [&] { return block8(conv, true); })},
          {"Block8", block8(conv, false)},
          {"Conv2d_7b_1x1", conv(2080, 1536, 1)}},
      inception::Head{.in_channels = 1536, .dropout = 0.2}, o);
}

const ModelRegistration kInceptionResNetV2(
    inception::meta("inception_resnet_v2", 299, "Inception-ResNet v2 (TF-slim's, no aux head)"),
    build);

}  // namespace
}  // namespace mox::zoo
