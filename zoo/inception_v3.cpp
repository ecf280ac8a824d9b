// inception_v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture") as torchvision
// builds it with aux_logits=False and transform_input=False: a stem of 3x3 convs and max pools,
// three 35x35 blocks (A), a grid reduction (B), four 17x17 blocks with 1x7 / 7x1 factorized
// convs (C), a reduction (D) and two 8x8 blocks with split 1x3 / 3x1 branches (E). Batch norm
// eps 0.001; the branch average pools count the zero padding, as torchvision's do.
//
// Parameter names are torchvision's (Conv2d_1a_3x3.conv.weight, Mixed_5b.branch5x5_1.bn.*, ...)
// except its fc, here "logits".
#include "zoo/inception_blocks.h"

namespace mox::zoo {
namespace {

using inception::Block;
using Layers = std::vector<std::pair<std::string, nn::ModulePtr>>;

Tensor avg_pool(const Tensor& x) {
  return avg_pool2d(x, {.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1}});
}
Tensor max_pool(const Tensor& x) { return max_pool2d(x, {.kernel = {3, 3}, .stride = {2, 2}}); }

// 35x35: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | avg pool -> 1x1.
nn::ModulePtr block_a(const inception::Convs& conv, int64_t in, int64_t pool_features) {
  return std::make_shared<Block>(
      Layers{{"branch1x1", conv(in, 64, 1)},
             {"branch5x5_1", conv(in, 48, 1)},
             {"branch5x5_2", conv(48, 64, 5)},
             {"branch3x3dbl_1", conv(in, 64, 1)},
             {"branch3x3dbl_2", conv(64, 96, 3)},
             {"branch3x3dbl_3", conv(96, 96, 3)},
             {"branch_pool", conv(in, pool_features, 1)}},
      [](const Block& b, const Tensor& x) {
        return concat({b.run({"branch1x1"}, x), b.run({"branch5x5_1", "branch5x5_2"}, x),
                       b.run({"branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"}, x),
                       b.run({"branch_pool"}, avg_pool(x))},
                      1);
      });
}

// 35x35 -> 17x17: 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool.
nn::ModulePtr block_b(const inception::Convs& conv, int64_t in) {
  return std::make_shared<Block>(
      Layers{{"branch3x3", conv(in, 384, 3, 2, 0)},
             {"branch3x3dbl_1", conv(in, 64, 1)},
             {"branch3x3dbl_2", conv(64, 96, 3)},
             {"branch3x3dbl_3", conv(96, 96, 3, 2, 0)}},
      [](const Block& b, const Tensor& x) {
        return concat({b.run({"branch3x3"}, x),
                       b.run({"branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"}, x),
                       max_pool(x)},
                      1);
      });
}

// 17x17: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | avg pool -> 1x1.
nn::ModulePtr block_c(const inception::Convs& conv, int64_t in, int64_t c7) {
  return std::make_shared<Block>(
      Layers{{"branch1x1", conv(in, 192, 1)},
             {"branch7x7_1", conv(in, c7, 1)},
             {"branch7x7_2", conv.rect(c7, c7, 1, 7)},
             {"branch7x7_3", conv.rect(c7, 192, 7, 1)},
             {"branch7x7dbl_1", conv(in, c7, 1)},
             {"branch7x7dbl_2", conv.rect(c7, c7, 7, 1)},
             {"branch7x7dbl_3", conv.rect(c7, c7, 1, 7)},
             {"branch7x7dbl_4", conv.rect(c7, c7, 7, 1)},
             {"branch7x7dbl_5", conv.rect(c7, 192, 1, 7)},
             {"branch_pool", conv(in, 192, 1)}},
      [](const Block& b, const Tensor& x) {
        return concat({b.run({"branch1x1"}, x),
                       b.run({"branch7x7_1", "branch7x7_2", "branch7x7_3"}, x),
                       b.run({"branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3",
                              "branch7x7dbl_4", "branch7x7dbl_5"},
                             x),
                       b.run({"branch_pool"}, avg_pool(x))},
                      1);
      });
}

// 17x17 -> 8x8: 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool.
nn::ModulePtr block_d(const inception::Convs& conv, int64_t in) {
  return std::make_shared<Block>(
      Layers{{"branch3x3_1", conv(in, 192, 1)},
             {"branch3x3_2", conv(192, 320, 3, 2, 0)},
             {"branch7x7x3_1", conv(in, 192, 1)},
             {"branch7x7x3_2", conv.rect(192, 192, 1, 7)},
             {"branch7x7x3_3", conv.rect(192, 192, 7, 1)},
             {"branch7x7x3_4", conv(192, 192, 3, 2, 0)}},
      [](const Block& b, const Tensor& x) {
        return concat({b.run({"branch3x3_1", "branch3x3_2"}, x),
                       b.run({"branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"}, x),
                       max_pool(x)},
                      1);
      });
}

// 8x8: 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | avg pool -> 1x1.
nn::ModulePtr block_e(const inception::Convs& conv, int64_t in) {
  return std::make_shared<Block>(
      Layers{{"branch1x1", conv(in, 320, 1)},
             {"branch3x3_1", conv(in, 384, 1)},
             {"branch3x3_2a", conv.rect(384, 384, 1, 3)},
             {"branch3x3_2b", conv.rect(384, 384, 3, 1)},
             {"branch3x3dbl_1", conv(in, 448, 1)},
             {"branch3x3dbl_2", conv(448, 384, 3)},
             {"branch3x3dbl_3a", conv.rect(384, 384, 1, 3)},
             {"branch3x3dbl_3b", conv.rect(384, 384, 3, 1)},
             {"branch_pool", conv(in, 192, 1)}},
      [](const Block& b, const Tensor& x) {
        Tensor b3 = b.run({"branch3x3_1"}, x);
        Tensor bd = b.run({"branch3x3dbl_1", "branch3x3dbl_2"}, x);
        return concat({b.run({"branch1x1"}, x), b.run({"branch3x3_2a"}, b3),
                       b.run({"branch3x3_2b"}, b3), b.run({"branch3x3dbl_3a"}, bd),
                       b.run({"branch3x3dbl_3b"}, bd), b.run({"branch_pool"}, avg_pool(x))},
                      1);
      });
}

std::shared_ptr<Network> build(const NetOptions& o) {
  inception::Convs conv{o.weight_decay};
  return std::make_shared<inception::InceptionNet>(
      "inception_v3", 75,
      Layers{{"Conv2d_1a_3x3", conv(3, 32, 3, 2, 0)},
             {"Conv2d_2a_3x3", conv(32, 32, 3, 1, 0)},
             {"Conv2d_2b_3x3", conv(32, 64, 3)},
             {"MaxPool_3a_3x3", inception::max_pool(3, 2)},
             {"Conv2d_3b_1x1", conv(64, 80, 1)},
             {"Conv2d_4a_3x3", conv(80, 192, 3, 1, 0)},
             {"MaxPool_5a_3x3", inception::max_pool(3, 2)},
             {"Mixed_5b", block_a(conv, 192, 32)},
             {"Mixed_5c", block_a(conv, 256, 64)},
             {"Mixed_5d", block_a(conv, 288, 64)},
             {"Mixed_6a", block_b(conv, 288)},
             {"Mixed_6b", block_c(conv, 768, 128)},
             {"Mixed_6c", block_c(conv, 768, 160)},
             {"Mixed_6d", block_c(conv, 768, 160)},
             {"Mixed_6e", block_c(conv, 768, 192)},
             {"Mixed_7a", block_d(conv, 768)},
             {"Mixed_7b", block_e(conv, 1280)},
             {"Mixed_7c", block_e(conv, 2048)}},
      inception::Head{.in_channels = 2048, .dropout = 0.5}, o);
}

const ModelRegistration kInceptionV3(
    inception::meta("inception_v3", 299, "Inception v3 (torchvision's, no aux head)"), build);

}  // namespace
}  // namespace mox::zoo
