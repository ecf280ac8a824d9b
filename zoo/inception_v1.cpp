// inception_v1: GoogLeNet (Szegedy et al., 2014) as torchvision's googlenet builds it without
// its auxiliary heads (and TF-slim's inception_v1 too: both use a 3x3 conv where the paper's
// fourth branch has 5x5). Max pools round up (ceil mode), batch norm follows every conv.
//
// Stages carry TF-slim's end point names (Conv2d_1a_7x7 ... Mixed_5c); inside a block the
// branches keep torchvision's names (branch1, branch2.0, branch2.1, ..., branch4.1), so a
// torchvision state dict maps on by renaming the stage prefixes (conv1 -> Conv2d_1a_7x7,
// inception3a -> Mixed_3b, fc -> logits, ...).
#include "zoo/inception_blocks.h"

namespace mox::zoo {
namespace {

using nn::ModulePtr;

// A GoogLeNet block: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 | 3x3 max pool -> 1x1, concatenated.
ModulePtr block(const inception::Convs& conv, int64_t in, int64_t c1, int64_t c3_reduce,
                int64_t c3, int64_t c5_reduce, int64_t c5, int64_t pool_proj) {
  using inception::chain;
  return std::make_shared<inception::Mixed>(std::vector<std::pair<std::string, ModulePtr>>{
      {"branch1", conv(in, c1, 1)},
      {"branch2", chain({conv(in, c3_reduce, 1), conv(c3_reduce, c3, 3)})},
      {"branch3", chain({conv(in, c5_reduce, 1), conv(c5_reduce, c5, 3)})},
      {"branch4", chain({inception::max_pool(3, 1, 1, true), conv(in, pool_proj, 1)})}});
}

// 31x31 is the smallest input: below it the last 2x2 pool gets a 1x1 map (Mox's pools take no
// window larger than their padded input, where PyTorch's ceil mode would still go to 15x15).
std::shared_ptr<Network> build(const NetOptions& o) {
  inception::Convs conv{o.weight_decay};
  auto pool = [](int64_t k) { return inception::max_pool(k, 2, 0, true); };
  return std::make_shared<inception::InceptionNet>(
      "inception_v1", 31,
      std::vector<std::pair<std::string, ModulePtr>>{
          {"Conv2d_1a_7x7", conv(3, 64, 7, 2)},
          {"MaxPool_2a_3x3", pool(3)},
          {"Conv2d_2b_1x1", conv(64, 64, 1)},
          {"Conv2d_2c_3x3", conv(64, 192, 3)},
          {"MaxPool_3a_3x3", pool(3)},
          {"Mixed_3b", block(conv, 192, 64, 96, 128, 16, 32, 32)},
          {"Mixed_3c", block(conv, 256, 128, 128, 192, 32, 96, 64)},
          {"MaxPool_4a_3x3", pool(3)},
          {"Mixed_4b", block(conv, 480, 192, 96, 208, 16, 48, 64)},
          {"Mixed_4c", block(conv, 512, 160, 112, 224, 24, 64, 64)},
          {"Mixed_4d", block(conv, 512, 128, 128, 256, 24, 64, 64)},
          {"Mixed_4e", block(conv, 512, 112, 144, 288, 32, 64, 64)},
          {"Mixed_4f", block(conv, 528, 256, 160, 320, 32, 128, 128)},
          {"MaxPool_5a_2x2", pool(2)},
          {"Mixed_5b", block(conv, 832, 256, 160, 320, 32, 128, 128)},
          {"Mixed_5c", block(conv, 832, 384, 192, 384, 48, 128, 128)}},
      inception::Head{.in_channels = 1024, .dropout = 0.2}, o);
}

const ModelRegistration kInceptionV1(
    inception::meta("inception_v1", 224, "GoogLeNet (torchvision's googlenet, no aux heads)"),
    build);

}  // namespace
}  // namespace mox::zoo
