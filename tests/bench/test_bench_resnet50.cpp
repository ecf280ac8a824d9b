// bench_resnet50 as a user runs it: a small training step and inference give positive speeds
// in its JSON, and bad flags end it with a message naming the flag.
#include <string>

#include "tests/support/check.h"

namespace mox::test {
namespace {
const std::string kBench = std::string(MOX_BIN_DIR) + "/bench_resnet50";
}  // namespace

TEST_CASE("bench_resnet50: small run gives positive img/s for training and inference") {
  Run r = run_command(kBench + " --no-peer --batch 2 --image_size 64 --reps 1 --warmup 0 --json");
  REQUIRE_MESSAGE(r.status == 0, r.output);
  nlohmann::json j = json_of_last_line(r.output);
  REQUIRE_MESSAGE(j.is_object(), r.output);
  const nlohmann::json& res = j["results"];
  for (const char* mode : {"train", "infer"}) {
    CAPTURE(mode);
    REQUIRE(res.contains(mode));
    CHECK(res[mode]["mox"]["img_per_s"].get<double>() > 0);
    CHECK(res[mode]["ratio"].is_null());  // no peer, no ratio
  }
  const nlohmann::json& train = res["train"]["mox"];
  CHECK(train["parameters"].get<int64_t>() == 25557032);
  CHECK(train["peak_rss_growth_mib"].get<double>() > 0);
  CHECK(train["allocator_peak_mib"].get<double>() > train["allocator_before_mib"].get<double>());
  CHECK(res["loss_check"]["ok"].get<bool>());
  CHECK(j["conditions"]["batch"].get<int>() == 2);
  CHECK(j["conditions"]["image_size"].get<int>() == 64);
}

TEST_CASE("bench_resnet50: bad device and gpus flags exit non-zero naming the flag") {
  Run dev = run_command(kBench + " --device foo --no-peer");
  CHECK(dev.status != 0);
  mentions(dev.output, {"--device", "foo"});
  Run gpus = run_command(kBench + " --gpus 2 --no-peer");
  CHECK(gpus.status != 0);
  mentions(gpus.output, {"--gpus", "cpu"});
#ifndef MOX_WITH_CUDA
  Run cuda = run_command(kBench + " --device cuda --no-peer");
  CHECK(cuda.status != 0);
  mentions(cuda.output, {"--device cuda", "without CUDA"});
#endif
}

}  // namespace mox::test
