// VGG, AlexNet v2, LeNet and CifarNet: every key builds and runs forward and backward at its
// fixed input size; vgg16's parameter count equals torchvision's (every VGG's in the slow
// suite), the others' the sums of their TF-slim layer sizes; other input sizes fail naming
// the model, the expected and the given shape.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "tests/support/check.h"
#include "tests/zoo/net_check.h"
#include "tests/zoo/torchvision_ref.h"

using namespace mox;
using test::check_forward_backward;
using test::mentions;
using test::thrown;

namespace {

// A VGG at 224: the stages' outputs before and after their pools, the dense layers.
void check_vgg(const std::string& name) {
  check_forward_backward(name, {1, 3, 224, 224}, 5,
                         {{"conv1", {1, 64, 224, 224}}, {"pool1", {1, 64, 112, 112}},
                          {"conv3", {1, 256, 56, 56}}, {"pool5", {1, 512, 7, 7}},
                          {"fc6", {1, 4096}}, {"fc7", {1, 4096}}});
}

int64_t count(const zoo::ModelFunction& model) { return model.network->num_parameters(); }

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("zoo vgg_a forward and backward") { check_vgg("vgg_a"); }
TEST_CASE("zoo vgg_16 forward and backward") { check_vgg("vgg_16"); }
// 140M-parameter networks at 224x224: the rest of the family runs with the slow tests.
TEST_CASE("zoo vgg_19 forward and backward" * doctest::test_suite("slow")) { check_vgg("vgg_19"); }
TEST_CASE("zoo vgg_a_bn forward and backward" * doctest::test_suite("slow")) { check_vgg("vgg_a_bn"); }
TEST_CASE("zoo vgg_16_bn forward and backward" * doctest::test_suite("slow")) { check_vgg("vgg_16_bn"); }
TEST_CASE("zoo vgg_19_bn forward and backward" * doctest::test_suite("slow")) { check_vgg("vgg_19_bn"); }

// Parameter counts: TF-slim's layer sizes summed by hand (weights + biases per layer).
TEST_CASE("zoo alexnet_v2 forward and backward") {
  auto model = check_forward_backward(
      "alexnet_v2", {2, 3, 224, 224}, 5,
      {{"conv1", {2, 64, 54, 54}}, {"pool1", {2, 64, 26, 26}}, {"pool2", {2, 192, 12, 12}},
       {"conv5", {2, 256, 12, 12}}, {"pool5", {2, 256, 5, 5}}, {"fc6", {2, 4096, 1, 1}},
       {"fc7", {2, 4096, 1, 1}}});
  CHECK(count(model) == 11 * 11 * 3 * 64 + 64 + 5 * 5 * 64 * 192 + 192 + 9 * 192 * 384 + 384 +
                            9 * 384 * 384 + 384 + 9 * 384 * 256 + 256 + 5 * 5 * 256 * 4096 +
                            4096 + 4096 * 4096 + 4096 + 4096 * 5 + 5);
  std::string msg = thrown<ShapeError>([&] { model(randn({1, 3, 256, 256})); });
  mentions(msg, {"alexnet_v2", "[N, 3, 224, 224]", "[1, 3, 256, 256]"});
}

TEST_CASE("zoo lenet forward and backward") {
  auto model = check_forward_backward(
      "lenet", {2, 1, 28, 28}, 10,
      {{"conv1", {2, 32, 28, 28}}, {"pool1", {2, 32, 14, 14}}, {"conv2", {2, 64, 14, 14}},
       {"pool2", {2, 64, 7, 7}}, {"fc3", {2, 1024}}});
  CHECK(count(model) == 25 * 32 + 32 + 25 * 32 * 64 + 64 + 7 * 7 * 64 * 1024 + 1024 + 1024 * 10 + 10);
  std::string msg = thrown<ShapeError>([&] { model(randn({2, 3, 28, 28})); });
  mentions(msg, {"lenet", "[N, 1, 28, 28]", "[2, 3, 28, 28]"});
}

TEST_CASE("zoo cifarnet forward and backward") {
  auto model = check_forward_backward(
      "cifarnet", {2, 3, 32, 32}, 10,
      {{"conv1", {2, 64, 32, 32}}, {"pool1", {2, 64, 16, 16}}, {"conv2", {2, 64, 16, 16}},
       {"pool2", {2, 64, 8, 8}}, {"fc3", {2, 384}}, {"fc4", {2, 192}}});
  CHECK(count(model) == 25 * 3 * 64 + 64 + 25 * 64 * 64 + 64 + 8 * 8 * 64 * 384 + 384 +
                            384 * 192 + 192 + 192 * 10 + 10);
  std::string msg = thrown<ShapeError>([&] { model(randn({1, 3, 28, 28})); });
  mentions(msg, {"cifarnet", "[N, 3, 32, 32]", "[1, 3, 28, 28]"});
}

// CifarNet's pool2 is max_pool(tf.nn.lrn(conv2, 4, bias=1, alpha=0.001/9, beta=0.75)):
// recomputed here from the conv2 end point by TF's formula, channel by channel.
TEST_CASE("zoo cifarnet applies TF's local response norm") {
  auto model = zoo::get_model_fn("cifarnet", {.run_mode = ModeKeys::EVAL, .num_classes = 10});
  auto ep = model(randn({1, 3, 32, 32}) * 20.0).end_points;
  const Tensor& conv2 = ep.at("conv2");
  const int64_t c = conv2.size(1), hw = conv2.size(2) * conv2.size(3);
  std::vector<double> x = conv2.tolist(), y(x.size());
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t i = 0; i < hw; ++i) {
      double sq = 0;
      for (int64_t k = std::max<int64_t>(0, ch - 4); k <= std::min(c - 1, ch + 4); ++k)
        sq += x[k * hw + i] * x[k * hw + i];
      y[ch * hw + i] = x[ch * hw + i] / std::pow(1 + 0.001 / 9 * sq, 0.75);
    }
  Tensor expected = max_pool2d(from_vector(y, conv2.sizes()), {.kernel = {2, 2}});
  CHECK_ALLCLOSE(ep.at("pool2"), expected, (test::Tolerance{1e-5, 1e-6}));
  // The norm matters at these magnitudes: without it pool2 would differ.
  CHECK(amax(abs(max_pool2d(conv2, {.kernel = {2, 2}}) - expected)).item() > 1e-3);
}

TEST_CASE("zoo fixed-size networks check NHWC images and build-time sizes") {
  auto nhwc = zoo::get_model_fn("cifarnet", {.num_classes = 10, .data_format = "NHWC"});
  CHECK(nhwc(randn({1, 32, 32, 3})).logits.sizes() == Shape{1, 10});
  std::string msg = thrown<ShapeError>([&] { nhwc(randn({1, 3, 32, 32})); });
  mentions(msg, {"cifarnet", "[N, 3, 32, 32]"});
  // Asking for another size at build time fails before any weights are made.
  msg = thrown<ShapeError>([] {
    zoo::get_model_fn("vgg_16", {.run_mode = ModeKeys::PREDICT, .image_height = 256, .image_width = 256});
  });
  mentions(msg, {"vgg_16", "224x224", "256x256"});
  CHECK(zoo::get_model_fn("lenet", {.run_mode = ModeKeys::PREDICT, .num_classes = 10,
                                    .image_height = 28, .image_width = 28})
            .network->num_parameters() > 0);
}

TEST_CASE("zoo vgg_16 has torchvision's vgg16 parameter count") {
  if (!test::have_torchvision_python()) return;
  CHECK(zoo::get_model_fn("vgg_16").network->num_parameters() == test::torchvision_counts({"vgg16"})[0]);
}

TEST_CASE("zoo VGG variants have torchvision's parameter counts" * doctest::test_suite("slow")) {
  if (!test::have_torchvision_python()) return;
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"vgg_a", "vgg11"}, {"vgg_19", "vgg19"}, {"vgg_a_bn", "vgg11_bn"},
      {"vgg_16_bn", "vgg16_bn"}, {"vgg_19_bn", "vgg19_bn"}};
  std::vector<std::string> tv;
  for (auto& [mox_name, tv_name] : pairs) tv.push_back(tv_name);
  std::vector<int64_t> counts = test::torchvision_counts(tv);
  for (size_t i = 0; i < pairs.size(); ++i) {
    CAPTURE(pairs[i].first);
    CHECK(zoo::get_model_fn(pairs[i].first).network->num_parameters() == counts[i]);
  }
}

}  // TEST_SUITE
