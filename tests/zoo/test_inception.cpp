// The Inception family: every key builds and runs forward and backward at the smallest image
// size it takes; inception_v1 and inception_v3 have torchvision's parameter counts (googlenet
// and inception_v3 without aux heads) and inception_v3 with torchvision's weights reproduces
// its logits; images below the smallest size fail naming the model and the rule.
#include <doctest/doctest.h>

#include "tests/support/check.h"
#include "tests/zoo/net_check.h"
#include "tests/zoo/torchvision_ref.h"

using namespace mox;
using test::check_forward_backward;
using test::mentions;
using test::thrown;

namespace {

// Runs check_forward_backward at the smallest size name takes, then checks that one pixel less
// and a grey image fail naming the model and the size rule.
zoo::ModelFunction check_at_min_size(const std::string& name, int64_t min,
                       const std::vector<test::ExpectedEndPoint>& end_points) {
  auto model = check_forward_backward(name, {2, 3, min, min}, 7, end_points);
  std::string msg = thrown<ShapeError>([&] { model(randn({1, 3, min - 1, min + 10})); });
  mentions(msg, {name.c_str(), "H, W >= ", std::to_string(min).c_str()});
  msg = thrown<ShapeError>([&] { model(randn({1, 1, min, min})); });
  mentions(msg, {name.c_str(), "[N, 3, H, W]"});
  return model;
}

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("zoo inception_v1 forward and backward") {
  check_at_min_size("inception_v1", 31,
                    {{"Conv2d_1a_7x7", {2, 64, 16, 16}}, {"MaxPool_2a_3x3", {2, 64, 8, 8}},
                     {"Mixed_3c", {2, 480, 4, 4}}, {"Mixed_4f", {2, 832, 2, 2}},
                     {"Mixed_5c", {2, 1024, 1, 1}}, {"global_pool", {2, 1024}}});
}

TEST_CASE("zoo inception_v3 forward and backward") {
  check_at_min_size("inception_v3", 75,
                    {{"Conv2d_1a_3x3", {2, 32, 37, 37}}, {"MaxPool_5a_3x3", {2, 192, 7, 7}},
                     {"Mixed_5d", {2, 288, 7, 7}}, {"Mixed_6e", {2, 768, 3, 3}},
                     {"Mixed_7c", {2, 2048, 1, 1}}, {"global_pool", {2, 2048}}});
}

TEST_CASE("zoo inception_v4 forward and backward") {
  check_at_min_size("inception_v4", 75,
                    {{"Mixed_3a", {2, 160, 17, 17}}, {"Mixed_4a", {2, 192, 15, 15}},
                     {"Mixed_5e", {2, 384, 7, 7}}, {"Mixed_6h", {2, 1024, 3, 3}},
                     {"Mixed_7d", {2, 1536, 1, 1}}, {"global_pool", {2, 1536}}});
}

// Keras's InceptionResNetV2 (TF-slim's layout) has 55,813,192 trainable parameters for 1000
// classes with batch norm's beta only; Mox's batch norm adds a gamma per channel.
TEST_CASE("zoo inception_resnet_v2 forward and backward") {
  auto model = check_at_min_size("inception_resnet_v2", 75,
                    {{"Mixed_5b", {2, 320, 7, 7}}, {"Repeat", {2, 320, 7, 7}},
                     {"Mixed_6a", {2, 1088, 3, 3}}, {"Mixed_7a", {2, 2080, 1, 1}},
                     {"Conv2d_7b_1x1", {2, 1536, 1, 1}}, {"global_pool", {2, 1536}}});
  int64_t gammas = 0;
  for (auto& [name, p] : model.network->named_parameters())
    if (name.size() > 10 && name.compare(name.size() - 10, 10, ".bn.weight") == 0) gammas += p.numel();
  CHECK(gammas == 30272);  // Keras: 60,544 non-trainable moving statistics, two per channel
  CHECK(model.network->num_parameters() - gammas + (1000 - 7) * (1536 + 1) == 55813192);
}

TEST_CASE("zoo inception_v1 and inception_v3 have torchvision's parameter counts") {
  if (!test::have_torchvision_python()) return;
  std::vector<int64_t> tv = test::torchvision_counts({"googlenet", "inception_v3"});
  CHECK(zoo::get_model_fn("inception_v1").network->num_parameters() == tv[0]);
  CHECK(zoo::get_model_fn("inception_v3").network->num_parameters() == tv[1]);
}

// 299x299 images, eval mode: batch norm with torchvision's eps 0.001 and random statistics.
// Twice the default tolerance: its stem's 3x3 layers of 32 to 64 channels run Winograd's
// convolution (kernels/cpu/conv_winograd.cpp), which rounds at the scale of a tile's largest
// terms, and the deep network carries that on (measured: 1.1e-4 of the logits' scale).
TEST_CASE("zoo inception_v3 reproduces torchvision's logits") {
  if (!test::have_torchvision_python()) return;
  test::check_torchvision_parity("inception_v3", "inception_v3", 2e-4);
}

}  // TEST_SUITE
