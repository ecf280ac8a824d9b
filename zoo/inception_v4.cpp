// inception_v4 (Szegedy et al., 2016, "Inception-v4, Inception-ResNet and the Impact of
// Residual Connections") as TF-slim defines it, without the auxiliary head: a stem of 3x3 convs
// and three two-branch mixes (Mixed_3a, _4a, _5a) to 35x35x384, four Inception-A blocks, a
// reduction to 17x17x1024, seven Inception-B blocks with 1x7 / 7x1 convs, a reduction to
// 8x8x1536, three Inception-C blocks with split 1x3 / 3x1 branches, then average pooling,
// dropout 0.2 and the logits. Strided convs and pools use no padding (TF's VALID), the rest
// same padding; branch average pools average over the pixels inside the image, as TF's SAME
// pooling does. Batch norm here has a scale (gamma), where TF-slim's Inception nets leave it
// out: one extra parameter per channel of each conv.
//
// Parameters: <stage>.Branch_<b>.<i>.conv.weight / .bn.* (TF-slim's scopes, with the convs of
// a branch numbered from 0).
#include "zoo/inception_blocks.h"

namespace mox::zoo {
namespace {

using inception::chain;
using inception::mixed;
using nn::ModulePtr;

// 35x35x384: 96 | 64 -> 96 | 64 -> 96 -> 96 | avg pool -> 96.
ModulePtr block_a(const inception::Convs& conv) {
  return mixed({conv(384, 96, 1), chain({conv(384, 64, 1), conv(64, 96, 3)}),
                chain({conv(384, 64, 1), conv(64, 96, 3), conv(96, 96, 3)}),
                chain({inception::avg_pool_3x3(false), conv(384, 96, 1)})});
}

// 35x35x384 -> 17x17x1024.
ModulePtr reduction_a(const inception::Convs& conv) {
  return mixed({conv(384, 384, 3, 2, 0),
                chain({conv(384, 192, 1), conv(192, 224, 3), conv(224, 256, 3, 2, 0)}),
                inception::max_pool(3, 2)});
}

// 17x17x1024: 384 | 192 -> 1x7 224 -> 7x1 256 | 192 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | pool -> 128.
ModulePtr block_b(const inception::Convs& conv) {
  return mixed({conv(1024, 384, 1),
                chain({conv(1024, 192, 1), conv.rect(192, 224, 1, 7), conv.rect(224, 256, 7, 1)}),
                chain({conv(1024, 192, 1), conv.rect(192, 192, 7, 1), conv.rect(192, 224, 1, 7),
                       conv.rect(224, 224, 7, 1), conv.rect(224, 256, 1, 7)}),
                chain({inception::avg_pool_3x3(false), conv(1024, 128, 1)})});
}

// 17x17x1024 -> 8x8x1536.
ModulePtr reduction_b(const inception::Convs& conv) {
  return mixed({chain({conv(1024, 192, 1), conv(192, 192, 3, 2, 0)}),
                chain({conv(1024, 256, 1), conv.rect(256, 256, 1, 7), conv.rect(256, 320, 7, 1),
                       conv(320, 320, 3, 2, 0)}),
                inception::max_pool(3, 2)});
}

// Two convs on the same input, concatenated: the 1x3 / 3x1 split of Inception-C.
ModulePtr split_1x3_3x1(const inception::Convs& conv, int64_t in) {
  return std::make_shared<inception::Mixed>(std::vector<std::pair<std::string, ModulePtr>>{
      {"1x3", conv.rect(in, 256, 1, 3)}, {"3x1", conv.rect(in, 256, 3, 1)}});
}

// 8x8x1536: 256 | 384 -> (256, 256) | 384 -> 3x1 448 -> 1x3 512 -> (256, 256) | pool -> 256.
ModulePtr block_c(const inception::Convs& conv) {
  return mixed({conv(1536, 256, 1), chain({conv(1536, 384, 1), split_1x3_3x1(conv, 384)}),
                chain({conv(1536, 384, 1), conv.rect(384, 448, 3, 1), conv.rect(448, 512, 1, 3),
                       split_1x3_3x1(conv, 512)}),
                chain({inception::avg_pool_3x3(false), conv(1536, 256, 1)})});
}

std::shared_ptr<Network> build(const NetOptions& o) {
  inception::Convs conv{o.weight_decay};
  std::vector<std::pair<std::string, ModulePtr>> stages = {
      {"Conv2d_1a_3x3", conv(3, 32, 3, 2, 0)},
      {"Conv2d_2a_3x3", conv(32, 32, 3, 1, 0)},
      {"Conv2d_2b_3x3", conv(32, 64, 3)},
      {"Mixed_3a", mixed({inception::max_pool(3, 2), conv(64, 96, 3, 2, 0)})},
      {"Mixed_4a", mixed({chain({conv(160, 64, 1), conv(64, 96, 3, 1, 0)}),
                          chain({conv(160, 64, 1), conv.rect(64, 64, 1, 7),
                                 conv.rect(64, 64, 7, 1), conv(64, 96, 3, 1, 0)})})},
      {"Mixed_5a", mixed({conv(192, 192, 3, 2, 0), inception::max_pool(3, 2)})}};
  auto add = [&](const std::string& name, ModulePtr block) { stages.emplace_back(name, block); };
  for (char c : {'b', 'c', 'd', 'e'}) add(std::string("Mixed_5") + c, block_a(conv));
  add("Mixed_6a", reduction_a(conv));
  for (char c : {'b', 'c', 'd', 'e', 'f', 'g', 'h'}) add(std::string("Mixed_6") + c, block_b(conv));
  add("Mixed_7a", reduction_b(conv));
  for (char c : {'b', 'c', 'd'}) add(std::string("Mixed_7") + c, block_c(conv));
  return std::make_shared<inception::InceptionNet>(
      "inception_v4", 75, std::move(stages), inception::Head{.in_channels = 1536, .dropout = 0.2},
      o);
}

const ModelRegistration kInceptionV4(
    inception::meta("inception_v4", 299, "Inception v4 (TF-slim's, no aux head)"), build);

}  // namespace
}  // namespace mox::zoo
