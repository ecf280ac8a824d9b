// bench_conv as a program: its JSON on two small ResNet-50 layers against oneDNN (positive
// speeds, the FMA peak, Mox's results within the check's tolerance of oneDNN's), and a bad
// layer name refused with the flag named. Timings are not asserted.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/support/check.h"
#include "tests/support/command.h"

using namespace mox;
using test::mentions;

namespace {

test::Run bench_conv(const std::string& args) {
  return test::run_command(std::string(MOX_BIN_DIR) + "/bench_conv " + args);
}

}  // namespace

TEST_CASE("bench_conv times Mox and oneDNN on ResNet-50 3x3 layers and agrees with oneDNN") {
  test::Run r = bench_conv("--batch 1 --layers res2_3x3,res3_3x3_s2 --reps 1 --warmup 0 --json --peers onednn");
  INFO(r.output);
  REQUIRE(r.status == 0);
  nlohmann::json j = test::json_of_last_line(r.output);
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    CHECK(j["conditions"]["fma_peak_1thread"].get<double>() > 0);
    CHECK(j["conditions"]["fma_peak_threads"].get<double>() > 0);
  }
  CHECK(j["conditions"]["onednn"].get<std::string>().find("libdnnl") != std::string::npos);
  const nlohmann::json& results = j["results"];
  REQUIRE(results.size() == 2);
  CHECK(results[0]["layer"] == "res2_3x3");
  CHECK(results[1]["layer"] == "res3_3x3_s2");
  for (const auto& layer : results) {
    REQUIRE(layer["passes"].size() == 3);
    for (const auto& [pass, p] : layer["passes"].items()) {
      INFO(layer["layer"], " ", pass);
      CHECK(p["mox_gflops"].get<double>() > 0);
      CHECK(p["onednn_gflops"].get<double>() > 0);
      CHECK(p["max_rel_diff"].get<double>() < 1e-4);
      CHECK_FALSE(p.contains("torch_ms"));
    }
  }
  CHECK(j["summary"]["check_failed"].empty());
  CHECK(j["summary"]["geomean_3x3_fwd_ratio_onednn"].get<double>() > 0);
}

TEST_CASE("bench_conv refuses an unknown layer naming the flag") {
  test::Run r = bench_conv("--layers res2_3x3,res9_5x5 --no-peer");
  CHECK(r.status != 0);
  mentions(r.output, {"--layers", "res9_5x5"});
}
