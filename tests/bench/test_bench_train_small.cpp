// bench_train_small as a user runs it: a short run of both jobs gives positive speeds and
// accuracies in its JSON, and a missing --data_dir ends it with a message naming the path.
// Timings are not asserted.
#include <doctest/doctest.h>

#include "io/data/mnist.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

const std::string kBench = std::string(MOX_BIN_DIR) + "/bench_train_small";

}  // namespace

TEST_CASE("bench_train_small: 20 steps of each job give positive images per second") {
  Run r = run_command(kBench + " --no-peer --steps 20 --reps 1 --threads 1 --json");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  nlohmann::json j = json_of_last_line(r.output);
  REQUIRE_MESSAGE(j.is_object(), r.output);
  CHECK(j["conditions"]["data"].get<std::string>().find(data::kFashionMnistDir) == 0);
  const nlohmann::json& results = j["results"];
  REQUIRE(results.size() == 2);
  CHECK(results[0]["job"] == "cnn");
  CHECK(results[0]["batch"] == 64);
  CHECK(results[1]["job"] == "softmax");
  CHECK(results[1]["batch"] == 100);
  for (const nlohmann::json& res : results) {
    CAPTURE(res.dump());
    CHECK(res["steps"] == 20);
    CHECK(res["mox"]["images_per_s"].get<double>() > 0);
    CHECK(res["mox"]["seconds_per_run"].size() == 1);
    // 20 steps already beat chance (10%) on Fashion-MNIST by far.
    CHECK(res["mox"]["accuracy"].get<double>() > 0.3);
    CHECK_FALSE(res.contains("torch"));
    CHECK(res["ratio"].is_null());
  }
}

TEST_CASE("bench_train_small: a missing data directory exits non-zero naming the path") {
  Run r = run_command(kBench + " --no-peer --steps 1 --reps 1 --data_dir /nonexistent/fashion-mnist-dir");
  CHECK(r.status != 0);
  mentions(r.output, {"bench_train_small", "/nonexistent/fashion-mnist-dir"});
}

TEST_CASE("bench_train_small: an unknown job is refused naming the flag") {
  Run r = run_command(kBench + " --no-peer --jobs cnn,resnet");
  CHECK(r.status != 0);
  mentions(r.output, {"--jobs", "resnet"});
}

}  // namespace mox::test
