// MobileNets: every key builds, runs forward and backward on a small batch and gives
// [N, num_classes] logits and its end points; mobilenet_v1's counts are the paper's,
// mobilenet_v2's (every width) torchvision's, and mobilenet_v2 with torchvision's weights
// reproduces its logits.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/check.h"
#include "tests/zoo/net_check.h"
#include "tests/zoo/torchvision_ref.h"
#include "zoo/mobilenet.h"

using namespace mox;
using test::check_forward_backward;

namespace {

// The stem, the first block, the last block, the last conv and the pooled features on a
// [2, 3, 64, 64] batch (five stride-2 stages: 64 / 32 = 2) for 5 classes.
void check_v1(const std::string& name, int64_t features) {
  const int64_t first = features / 32, second = features / 16;  // TF-slim's depths 32 and 64
  check_forward_backward(name, {2, 3, 64, 64}, 5,
                         {{"Conv2d_0", {2, first, 32, 32}},
                          {"Conv2d_1_depthwise", {2, first, 32, 32}},
                          {"Conv2d_1_pointwise", {2, second, 32, 32}},
                          {"Conv2d_13_pointwise", {2, features, 2, 2}},
                          {"global_pool", {2, features}}});
}

void check_v2(const std::string& name, int64_t stem, int64_t first, int64_t last,
              int64_t features) {
  check_forward_backward(name, {2, 3, 64, 64}, 5,
                         {{"Conv", {2, stem, 32, 32}}, {"expanded_conv", {2, first, 32, 32}},
                          {"expanded_conv_16", {2, last, 2, 2}}, {"Conv_1", {2, features, 2, 2}},
                          {"global_pool", {2, features}}});
}

const char* const kKeys[] = {"mobilenet_v1",     "mobilenet_v1_075", "mobilenet_v1_050",
                             "mobilenet_v1_025", "mobilenet_v2",     "mobilenet_v2_140",
                             "mobilenet_v2_035"};

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("zoo mobilenet_v1 forward and backward") { check_v1("mobilenet_v1", 1024); }
TEST_CASE("zoo mobilenet_v1_075 forward and backward") { check_v1("mobilenet_v1_075", 768); }
TEST_CASE("zoo mobilenet_v1_050 forward and backward") { check_v1("mobilenet_v1_050", 512); }
TEST_CASE("zoo mobilenet_v1_025 forward and backward") { check_v1("mobilenet_v1_025", 256); }
TEST_CASE("zoo mobilenet_v2 forward and backward") { check_v2("mobilenet_v2", 32, 16, 320, 1280); }
TEST_CASE("zoo mobilenet_v2_140 forward and backward") { check_v2("mobilenet_v2_140", 48, 24, 448, 1792); }
// Below width 1 the last conv keeps 1280 channels (TF-slim's finegrain_classification_mode).
TEST_CASE("zoo mobilenet_v2_035 forward and backward") { check_v2("mobilenet_v2_035", 16, 8, 112, 1280); }

TEST_CASE("zoo MobileNet metas follow the manual") {
  for (const char* key : kKeys) {
    CAPTURE(key);
    zoo::ModelMeta meta = zoo::get_model_meta(key);
    CHECK(meta.supported);
    CHECK(meta.default_image_size == 224);
    CHECK(meta.default_labels_offset == 0);  // TF-slim's 1001-class ImageNet models
    CHECK(meta.default_logits_pattern == "logits");
    CHECK(meta.preprocessing == "inception_preprocessing");
  }
}

TEST_CASE("zoo mobilenet_v1 parameter counts are the MobileNet paper's") {
  // Howard et al. 2017, table 6 (1000 classes): 4.2M, 2.6M, 1.3M and 0.5M parameters.
  const std::pair<const char*, double> published[] = {
      {"mobilenet_v1", 4.2}, {"mobilenet_v1_075", 2.6}, {"mobilenet_v1_050", 1.3},
      {"mobilenet_v1_025", 0.5}};
  for (auto& [key, millions] : published) {
    CAPTURE(key);
    const int64_t n = zoo::get_model_fn(key, {.num_classes = 1000}).network->num_parameters();
    CHECK(std::round(double(n) / 1e5) == doctest::Approx(millions * 10));
  }
}

TEST_CASE("zoo MobileNets decay every weight but the depthwise ones") {
  // v1: Conv2d_0, 13 pointwise convs, logits; v2: Conv, 16 expand and 17 project convs,
  // Conv_1, logits (TF-slim leaves depthwise weights unregularized).
  auto decayed = [](const char* key) {
    return zoo::get_model_fn(key, {.weight_decay = 1e-4}).network->regularization_losses().size();
  };
  CHECK(decayed("mobilenet_v1") == 15);
  CHECK(decayed("mobilenet_v2") == 36);
  CHECK(zoo::get_model_fn("mobilenet_v2").network->regularization_losses().empty());
}

TEST_CASE("zoo MobileNets reject images of the wrong rank or channel count") {
  auto model = zoo::get_model_fn("mobilenet_v2", {.num_classes = 3});
  std::string msg = test::thrown<ShapeError>([&] { model(randn({2, 1, 32, 32})); });
  test::mentions(msg, {"mobilenet_v2", "[2, 1, 32, 32]"});
  msg = test::thrown<ShapeError>([&] { model(randn({3, 32, 32})); });
  test::mentions(msg, {"mobilenet_v2", "[3, 32, 32]"});
}

TEST_CASE("zoo make_divisible rounds as torchvision's _make_divisible") {
  CHECK(zoo::make_divisible(32 * 0.35) == 16);  // 8 would be more than 10% below 11.2
  CHECK(zoo::make_divisible(24 * 0.35) == 8);
  CHECK(zoo::make_divisible(32 * 1.4) == 48);
  CHECK(zoo::make_divisible(1280 * 1.4) == 1792);
  CHECK(zoo::make_divisible(3) == 8);
}

TEST_CASE("zoo mobilenet_v2 parameter counts equal torchvision's at every width") {
  if (!test::have_torchvision_python()) return;
  // The script builds mobilenet_v2_140 and _035 as torchvision's mobilenet_v2(width_mult=...).
  const std::vector<std::string> keys = {"mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_035"};
  const std::vector<int64_t> counts = test::torchvision_counts(keys);
  for (size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(keys[i]);
    CHECK(zoo::get_model_fn(keys[i]).network->num_parameters() == counts[i]);
  }
}

TEST_CASE("zoo mobilenet_v2 with torchvision's weights reproduces its logits") {
  if (!test::have_torchvision_python()) return;
  test::check_torchvision_parity("mobilenet_v2", "mobilenet_v2");
}

}  // TEST_SUITE
