// The ResNet family: every key builds, runs forward and backward on a small batch and gives
// [N, num_classes] logits; parameter counts equal torchvision's; resnet_v1_50 with weights
// exported from torchvision reproduces its logits (tests/ref/torchvision_models.py).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "nn/checkpoint.h"
#include "tests/nn/event_reader.h"  // TempDir
#include "tests/support/check.h"
#include "zoo/zoo.h"

using namespace mox;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string script() { return std::string(MOX_TEST_DATA) + "/../ref/torchvision_models.py"; }

// Output of a shell command; fails the test when it exits non-zero.
std::string run_command(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = pclose(p);
  REQUIRE_MESSAGE(rc == 0, cmd, " failed: ", out);
  return out;
}

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
  if (access(kPython, X_OK) != 0) {
    MESSAGE("skipped: /usr/bin/python3 is missing");
    return;
  }
  const std::pair<const char*, const char*> pairs[] = {
      {"resnet_v1_18", "resnet18"},         {"resnet_v1_50", "resnet50"},
      {"resnet_v1_101", "resnet101"},       {"resnet_v1_152", "resnet152"},
      {"resnext_b_50", "resnext50_32x4d"},
  };
  std::string cmd = std::string(kPython) + " '" + script() + "' count";
  for (auto& [mox_name, tv_name] : pairs) cmd += std::string(" ") + tv_name;
  std::istringstream out(run_command(cmd));
  for (auto& [mox_name, tv_name] : pairs) {
    CAPTURE(mox_name);
    std::string name;
    int64_t tv_count = 0;
    REQUIRE(static_cast<bool>(out >> name >> tv_count));
    CHECK(name == tv_name);
    CHECK(zoo::get_model_fn(mox_name).network->num_parameters() == tv_count);
  }
}

TEST_CASE("zoo resnet_v1_50 with torchvision's weights reproduces its logits") {
  if (access(kPython, X_OK) != 0) {
    MESSAGE("skipped: /usr/bin/python3 is missing");
    return;
  }
  test::TempDir dir("zoo_resnet50");
  run_command(std::string(kPython) + " '" + script() + "' export resnet50 '" + dir.str() + "' 2>&1");
  auto model = zoo::get_model_fn("resnet_v1_50", {.run_mode = ModeKeys::EVAL});
  CHECK_FALSE(model.network->is_training());
  model.network->load_state_dict(nn::load_checkpoint(dir / "weights.safetensors").tensors);
  auto io = nn::load_checkpoint(dir / "io.safetensors").tensors;
  const Tensor& expected = io.at("logits");
  Tensor logits = model(io.at("input")).logits;
  REQUIRE(logits.sizes() == expected.sizes());
  // 1e-4 relative to the logits' scale: f32 sums in another order over 50 layers.
  const double scale = amax(abs(expected)).item();
  const double worst = amax(abs(logits - expected)).item();
  CAPTURE(scale);
  CAPTURE(worst);
  CHECK(scale > 0);
  CHECK(worst <= 1e-4 * scale);
  CHECK_ALLCLOSE(logits, expected, (test::Tolerance{1e-4, 1e-4 * scale}));
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
