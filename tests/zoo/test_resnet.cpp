// The ResNet family: every key builds, runs forward and backward on a small batch and gives
// [N, num_classes] logits; parameter counts equal torchvision's; resnet_v1_50 with weights
// exported from torchvision reproduces its logits (tests/ref/torchvision_models.py).
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/check.h"
#include "tests/zoo/torchvision_ref.h"
#include "zoo/zoo.h"

using namespace mox;

namespace {

// Builds name for 5 classes, trains one step's worth of forward and backward on a [2, 3, size,
// size] batch with weight decay, and checks shapes, end points and that every parameter got a
// finite gradient.
void check_forward_backward(const std::string& name, int64_t size) {
  CAPTURE(name);
  manual_seed(7);
  auto model = zoo::get_model_fn(name, {.run_mode = ModeKeys::TRAIN, .num_classes = 5, .weight_decay = 1e-4});
  Tensor images = randn({2, 3, size, size});
  auto [logits, end_points] = model(images);
  REQUIRE(logits.sizes() == Shape{2, 5});
  for (const char* ep : {"conv1", "block1", "global_pool", "logits", "predictions"}) {
    CAPTURE(ep);
    CHECK(end_points.count(ep) == 1);
  }
  CHECK(end_points.at("predictions").sizes() == Shape{2, 5});
  // The manual's default_logits_pattern names the classifier's parameters.
  const std::string pattern = zoo::get_model_meta(name).default_logits_pattern + ".";
  int64_t logits_params = 0;
  for (auto& [pname, p] : model.network->named_parameters())
    if (pname.rfind(pattern, 0) == 0) logits_params += p.numel();
  CHECK(logits_params == 5 * (end_points.at("global_pool").size(1) + 1));

  TensorList reg = model.network->regularization_losses();
  REQUIRE(!reg.empty());
  Tensor loss = cross_entropy(logits, tensor({1, 3}, opts(DType::i64)));
  for (const Tensor& r : reg) loss = loss + r;
  loss.backward();
  for (auto& [pname, p] : model.network->named_parameters()) {
    CAPTURE(pname);
    REQUIRE(p.grad().defined());
    CHECK(std::isfinite(sum(abs(p.grad())).item()));
  }
  CHECK(sum(abs(model.network->named_parameters().front().second.grad())).item() > 0);
}

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("zoo resnet_v1_18 forward and backward") { check_forward_backward("resnet_v1_18", 64); }
TEST_CASE("zoo resnet_v1_50 forward and backward") { check_forward_backward("resnet_v1_50", 64); }
TEST_CASE("zoo resnet_v2_50 forward and backward") { check_forward_backward("resnet_v2_50", 64); }
TEST_CASE("zoo resnext_b_50 forward and backward") { check_forward_backward("resnext_b_50", 64); }
TEST_CASE("zoo resnext_c_50 forward and backward") { check_forward_backward("resnext_c_50", 64); }
TEST_CASE("zoo resnet_v1_20 forward and backward") { check_forward_backward("resnet_v1_20", 32); }
TEST_CASE("zoo resnet_v1_110 forward and backward") { check_forward_backward("resnet_v1_110", 32); }

TEST_CASE("zoo CIFAR ResNets have the ResNet paper's parameter counts") {
  // He et al. 2015, table 6: 0.27M (20 layers) and 1.7M (110 layers) with option-A shortcuts.
  auto count = [](const char* name) {
    return zoo::get_model_fn(name, {.num_classes = 10}).network->num_parameters();
  };
  CHECK(std::round(count("resnet_v1_20") / 1e4) == 27);
  CHECK(std::round(count("resnet_v1_110") / 1e5) == 17);
}

TEST_CASE("zoo ResNet parameter counts equal torchvision's") {
  if (!test::have_torchvision_python()) return;
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"resnet_v1_18", "resnet18"},   {"resnet_v1_50", "resnet50"},
      {"resnet_v1_101", "resnet101"}, {"resnet_v1_152", "resnet152"},
      {"resnext_b_50", "resnext50_32x4d"},
  };
  std::vector<std::string> tv_names;
  for (auto& p : pairs) tv_names.push_back(p.second);
  const std::vector<int64_t> tv_counts = test::torchvision_counts(tv_names);
  for (size_t i = 0; i < pairs.size(); ++i) {
    CAPTURE(pairs[i].first);
    CHECK(zoo::get_model_fn(pairs[i].first).network->num_parameters() == tv_counts[i]);
  }
}

TEST_CASE("zoo resnet_v1_50 with torchvision's weights reproduces its logits") {
  if (test::have_torchvision_python()) test::check_torchvision_parity("resnet_v1_50", "resnet50");
}

}  // TEST_SUITE

// The deep ones: building them (initializing 45M to 89M weights) dominates.
TEST_SUITE("slow") {
TEST_CASE("zoo resnet_v1_101 forward and backward") { check_forward_backward("resnet_v1_101", 64); }
TEST_CASE("zoo resnet_v1_152 forward and backward") { check_forward_backward("resnet_v1_152", 64); }
TEST_CASE("zoo resnet_v1_200 forward and backward") { check_forward_backward("resnet_v1_200", 64); }
TEST_CASE("zoo resnet_v2_101 forward and backward") { check_forward_backward("resnet_v2_101", 64); }
TEST_CASE("zoo resnet_v2_152 forward and backward") { check_forward_backward("resnet_v2_152", 64); }
TEST_CASE("zoo resnet_v2_200 forward and backward") { check_forward_backward("resnet_v2_200", 64); }
TEST_CASE("zoo resnext_b_101 forward and backward") { check_forward_backward("resnext_b_101", 64); }
TEST_CASE("zoo resnext_c_101 forward and backward") { check_forward_backward("resnext_c_101", 64); }
}  // TEST_SUITE
