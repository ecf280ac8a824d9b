// Mixed precision end to end through the `mox` program: the Fashion-MNIST CNN trained in f16
// with dynamic loss scaling and in bf16 reaches the accuracy of the same f32 run (a reduced run:
// 150 steps of 64 images, evaluated on the 10k test images), and bad --dtype / --loss_scale
// values fail naming the flag.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/check.h"

namespace mox::test {
namespace {

Run mox_train(const std::string& args) {
  return run_command(std::string(MOX_BIN_DIR) + "/mox train " + args);
}

}  // namespace

TEST_CASE("mox train: bad --dtype and --loss_scale values fail naming the flag") {
  for (const char* bad : {"i32", "foo", "f64"}) {
    Run o = mox_train(std::string("--dtype=") + bad);
    CHECK(o.status == 1);
    mentions(o.output, {"--dtype", bad, "f32", "f16", "bf16"});
  }
  for (const char* bad : {"abc", "0", "-2"}) {
    Run o = mox_train(std::string("--loss_scale=") + bad);
    CHECK(o.status == 1);
    mentions(o.output, {"--loss_scale", bad, "dynamic"});
  }
  Run help = mox_train("--help");
  CHECK(help.status == 0);
  mentions(help.output, {"--dtype", "--loss_scale"});
}

TEST_SUITE("slow") {
TEST_CASE("mox train: f16 with dynamic loss scaling and bf16 train the CNN to the f32 accuracy") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mox_amp_train_" + std::to_string(getpid()));
  auto train = [&](const std::string& dtype, const std::string& scale) {
    fs::remove_all(dir);
    Run o = mox_train("--dtype=" + dtype + " --loss_scale=" + scale +
                         " --max_number_of_steps=150 --log_every_n_steps=50 --threads=2 --json --train_url=" +
                         dir.string());
    INFO(o.output);
    REQUIRE(o.status == 0);
    nlohmann::json j = test::json_of_last_line(o.output);
    CHECK(j["dtype"] == dtype);
    CHECK(j["steps"] == 150);
    return j;
  };
  nlohmann::json f32 = train("f32", "1"), f16 = train("f16", "dynamic"), bf16 = train("bf16", "1");
  fs::remove_all(dir);
  double base = f32["accuracy"].get<double>();
  MESSAGE("accuracy f32 ", base, ", f16 ", f16["accuracy"].get<double>(), " (loss scale ",
          f16["loss_scale"].get<double>(), ", ", f16["skipped_steps"].get<int64_t>(), " skipped), bf16 ",
          bf16["accuracy"].get<double>());
  CHECK(base > 0.7);
  CHECK(f16["accuracy"].get<double>() > base - 0.02);
  CHECK(bf16["accuracy"].get<double>() > base - 0.03);
  // Dynamic scaling backs off from 2^15 on the first overflows, skipping only those steps.
  CHECK(f16["loss_scale"].get<double>() >= 1);
  CHECK(f16["skipped_steps"].get<int64_t>() < 20);
  CHECK(bf16["skipped_steps"].get<int64_t>() == 0);
}
}

}  // namespace mox::test
