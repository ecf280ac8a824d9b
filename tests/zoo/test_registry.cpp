// The NetworkKeys registry: the manual's names and metas, get_model_fn's options and errors,
// NHWC input and run modes.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/support/check.h"
#include "zoo/zoo.h"

using namespace mox;
using test::mentions;
using test::thrown;

namespace {

// `mox models ARGS` (stderr too) and its exit status.
test::Run mox_models(const std::string& args) {
  return test::run_command(std::string(MOX_BIN_DIR) + "/mox models " + args);
}

bool supported(const std::string& name) {
  auto keys = zoo::supported_network_keys();
  return std::find(keys.begin(), keys.end(), name) != keys.end();
}

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("zoo network_keys lists the manual's NetworkKeys in its order") {
  const std::vector<std::string> manual = {
      "alexnet_v2", "cifarnet", "overfeat", "vgg_a", "vgg_16", "vgg_19", "vgg_a_bn", "vgg_16_bn",
      "vgg_19_bn", "inception_v1", "inception_v2", "inception_v3", "inception_v4",
      "inception_resnet_v2", "lenet", "resnet_v1_18", "resnet_v1_50", "resnet_v1_50_8k",
      "resnet_v1_101", "resnet_v1_152", "resnet_v1_200", "resnet_v2_50", "resnet_v2_101",
      "resnet_v2_152", "resnet_v2_200", "resnext_b_50", "resnext_b_101", "resnext_c_50",
      "resnext_c_101", "pvanet", "mobilenet_v1", "mobilenet_v1_075", "mobilenet_v1_050",
      "mobilenet_v1_025", "mobilenet_v2", "mobilenet_v2_140", "mobilenet_v2_035", "resnet_v1_20",
      "resnet_v1_110", "nasnet_cifar", "nasnet_mobile", "nasnet_large", "pnasnet_large",
      "pnasnet_mobile"};
  auto keys = zoo::network_keys();
  REQUIRE(keys.size() >= manual.size());
  CHECK(std::vector<std::string>(keys.begin(), keys.begin() + manual.size()) == manual);
  for (const std::string& s : zoo::supported_network_keys()) {
    CAPTURE(s);
    CHECK(std::find(keys.begin(), keys.end(), s) != keys.end());
    CHECK(zoo::get_model_meta(s).supported);
  }
  CHECK(supported("resnet_v1_50"));
  CHECK_FALSE(zoo::get_model_meta("nasnet_large").supported);
}

TEST_CASE("zoo get_model_meta gives the manual's facts") {
  auto resnet = zoo::get_model_meta("resnet_v1_50");
  CHECK(resnet.name == "resnet_v1_50");
  CHECK(resnet.default_image_size == 224);
  CHECK(resnet.default_labels_offset == 1);
  CHECK(resnet.default_logits_pattern == "logits");
  CHECK(resnet.preprocessing == "vgg_preprocessing");
  CHECK_FALSE(resnet.description.empty());
  auto inception = zoo::get_model_meta("inception_v3");
  CHECK(inception.default_image_size == 299);
  CHECK(inception.default_labels_offset == 0);
  CHECK(inception.preprocessing == "inception_preprocessing");
  CHECK(zoo::get_model_meta("mobilenet_v2").preprocessing == "inception_preprocessing");
  CHECK(zoo::get_model_meta("mobilenet_v2").default_labels_offset == 0);
  CHECK(zoo::get_model_meta("lenet").default_image_size == 28);
  CHECK(zoo::get_model_meta("lenet").preprocessing == "lenet_preprocessing");
  CHECK(zoo::get_model_meta("cifarnet").default_image_size == 32);
  CHECK(zoo::get_model_meta("resnet_v1_110").default_image_size == 32);
  CHECK(zoo::get_model_meta("resnet_v1_110").preprocessing == "cifarnet_preprocessing");
  CHECK(zoo::get_model_meta("pvanet").preprocessing == "pvanet_preprocessing");
  mentions(thrown<Error>([] { zoo::get_model_meta("resnet_v9"); }), {"resnet_v9", "resnet_v1_50", "pnasnet_mobile"});
}

TEST_CASE("zoo get_model_fn rejects unknown and unimplemented names listing the supported ones") {
  mentions(thrown<Error>([] { zoo::get_model_fn("resnet_v1_51"); }),
           {"unknown network 'resnet_v1_51'", "supported:", "resnet_v1_50", "resnext_c_101"});
  int unsupported = 0;
  for (const char* name : {"overfeat", "pvanet", "resnet_v1_50_8k", "nasnet_cifar", "nasnet_mobile",
                           "nasnet_large", "pnasnet_large", "pnasnet_mobile"}) {
    if (supported(name)) continue;
    CAPTURE(name);
    ++unsupported;
    mentions(thrown<Error>([&] { zoo::get_model_fn(name); }), {name, "does not implement", "resnet_v1_50"});
  }
  CHECK(unsupported > 0);
}

TEST_CASE("zoo get_model_fn checks its options") {
  mentions(thrown<Error>([] { zoo::get_model_fn("resnet_v1_20", {.num_classes = 0}); }),
           {"resnet_v1_20", "num_classes"});
  mentions(thrown<Error>([] { zoo::get_model_fn("resnet_v1_20", {.weight_decay = -1}); }), {"weight_decay"});
  mentions(thrown<Error>([] { zoo::get_model_fn("resnet_v1_20", {.data_format = "NWHC"}); }),
           {"data_format", "NWHC"});
  mentions(thrown<Error>([] { zoo::get_model_fn("resnet_v1_20", {.image_height = 32}); }),
           {"image_height", "image_width"});
}

TEST_CASE("zoo run_mode sets train or eval and weight_decay feeds regularization_losses") {
  auto train = zoo::get_model_fn("resnet_v1_20", {.run_mode = ModeKeys::TRAIN, .num_classes = 10});
  CHECK(train.network->is_training());
  CHECK(train.network->regularization_losses().empty());
  auto eval = zoo::get_model_fn("resnet_v1_20", {.run_mode = ModeKeys::EVAL, .weight_decay = 1e-4});
  CHECK_FALSE(eval.network->is_training());
  CHECK(zoo::get_model_fn("resnet_v1_20", {.run_mode = ModeKeys::PREDICT}).network->is_training() == false);
  // Conv and dense weights decay: 1e-4 * sum(w^2) / 2 each; batch-norm parameters do not.
  TensorList reg = eval.network->regularization_losses();
  double total = 0, expected = 0;
  for (const Tensor& r : reg) total += r.item();
  for (auto& [name, p] : eval.network->named_parameters())
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0 && p.dim() >= 2)
      expected += 1e-4 * sum(p * p).item() / 2;
  CHECK(reg.size() == 20);  // 19 convs (option-A shortcuts have none) and the logits weight
  CHECK(total == doctest::Approx(expected).epsilon(1e-5));
}

TEST_CASE("zoo NHWC images are transposed to the network's NCHW") {
  manual_seed(3);
  auto nchw = zoo::get_model_fn("resnet_v1_20", {.run_mode = ModeKeys::EVAL, .num_classes = 10});
  auto nhwc = zoo::get_model_fn("resnet_v1_20",
                                {.run_mode = ModeKeys::EVAL, .num_classes = 10, .data_format = "NHWC"});
  nhwc.network->load_state_dict(nchw.network->state_dict());
  Tensor images = randn({2, 3, 32, 32});
  Tensor a = nchw(images).logits;
  Tensor b = nhwc(images.permute({0, 2, 3, 1}).contiguous()).logits;
  CHECK_ALLCLOSE(b, a, test::tolerance_for(DType::f32));
  // A channels-last batch given as NCHW is caught: 32 channels of 3x32 images.
  mentions(thrown<ShapeError>([&] { nchw(images.permute({0, 2, 3, 1}).contiguous()); }),
           {"resnet_v1_20", "[2, 32, 32, 3]", "NCHW"});
}

TEST_CASE("zoo wrong image rank and size give errors naming the model and the shape") {
  auto model = zoo::get_model_fn("resnet_v1_20", {.num_classes = 10});
  mentions(thrown<ShapeError>([&] { model(randn({3, 32, 32})); }), {"resnet_v1_20", "4-d", "[3, 32, 32]"});
  auto fixed = zoo::get_model_fn("resnet_v1_20",
                                 {.run_mode = ModeKeys::PREDICT, .num_classes = 10, .image_height = 32, .image_width = 32});
  CHECK(fixed(randn({1, 3, 32, 32})).logits.sizes() == Shape{1, 10});
  mentions(thrown<ShapeError>([&] { fixed(randn({1, 3, 40, 32})); }), {"resnet_v1_20", "[1, 3, 40, 32]", "32x32"});
  // A network with a dense layer sized for its default image: lenet (28x28x1).
  if (supported("lenet")) {
    auto lenet = zoo::get_model_fn("lenet", {.num_classes = 10});
    CHECK(lenet(randn({2, 1, 28, 28})).logits.sizes() == Shape{2, 10});
    mentions(thrown<ShapeError>([&] { lenet(randn({2, 1, 32, 32})); }), {"lenet", "[2, 1, 32, 32]", "28"});
  }
}

TEST_CASE("zoo mox models lists networks with parameter counts size and support") {
  // Every supported network is built to count it: --names keeps this test to three.
  auto [rc, out] = mox_models("--json --num_classes=10 --names=resnet_v1_20,nasnet_large,resnet_v1_18");
  REQUIRE_MESSAGE(rc == 0, out);
  auto j = nlohmann::json::parse(out);
  CHECK(j["num_classes"] == 10);
  REQUIRE(j["models"].size() == 3);
  auto& cifar = j["models"][0];
  CHECK(cifar["name"] == "resnet_v1_20");
  CHECK(cifar["supported"] == true);
  CHECK(cifar["default_image_size"] == 32);
  CHECK(cifar["parameters"].get<int64_t>() ==
        zoo::get_model_fn("resnet_v1_20", {.num_classes = 10}).network->num_parameters());
  CHECK(j["models"][1]["supported"] == false);
  CHECK(j["models"][1]["parameters"].is_null());
  CHECK(j["models"][1]["default_image_size"] == 331);
  CHECK(j["models"][2]["parameters"].get<int64_t>() == 11689512 - 1000 * 513 + 10 * 513);

  auto [table_rc, table] = mox_models("--names=resnet_v1_20,pvanet");
  CHECK(table_rc == 0);
  mentions(table, {"resnet_v1_20", "334072", "32", "yes", "pvanet", "no"});
  auto [bad_rc, bad] = mox_models("--names=resnet_v9");
  CHECK(bad_rc == 1);
  mentions(bad, {"resnet_v9", "NetworkKeys"});
  auto [help_rc, help] = mox_models("--help");
  CHECK(help_rc == 0);
  mentions(help, {"--num_classes", "--json", "--names"});
}

}  // TEST_SUITE
