#include "tests/zoo/torchvision_ref.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <sstream>

#include "nn/checkpoint.h"
#include "tests/nn/event_reader.h"  // TempDir
#include "tests/support/check.h"
#include "zoo/zoo.h"

namespace mox::test {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string script_command(const std::string& args) {
  return std::string(kPython) + " '" + MOX_TEST_DATA + "/../ref/torchvision_models.py' " + args;
}

// Output of a shell command; fails the test when it exits non-zero.
std::string checked_output(const std::string& cmd) {
  Run r = run_command(cmd);
  REQUIRE_MESSAGE(r.status == 0, cmd, " failed: ", r.output);
  return r.output;
}

}  // namespace

bool have_torchvision_python() {
  if (access(kPython, X_OK) == 0) return true;
  MESSAGE("skipped: ", kPython, " is missing");
  return false;
}

std::vector<int64_t> torchvision_counts(const std::vector<std::string>& names) {
  std::string args = "count";
  for (const std::string& n : names) args += " " + n;
  std::istringstream out(checked_output(script_command(args)));
  std::vector<int64_t> counts;
  for (const std::string& n : names) {
    std::string name;
    int64_t count = 0;
    REQUIRE(static_cast<bool>(out >> name >> count));
    REQUIRE(name == n);
    counts.push_back(count);
  }
  return counts;
}

void check_torchvision_parity(const std::string& mox_name, const std::string& tv_name,
                              double rtol) {
  CAPTURE(mox_name);
  TempDir dir("zoo_parity_" + mox_name);
  checked_output(script_command("export " + tv_name + " '" + dir.str() + "'"));
  auto model = zoo::get_model_fn(mox_name, {.run_mode = ModeKeys::EVAL});
  REQUIRE_FALSE(model.network->is_training());
  model.network->load_state_dict(nn::load_checkpoint(dir / "weights.safetensors").tensors);
  auto io = nn::load_checkpoint(dir / "io.safetensors").tensors;
  const Tensor& expected = io.at("logits");
  Tensor logits = model(io.at("input")).logits;
  REQUIRE(logits.sizes() == expected.sizes());
  // Relative to the logits' scale: f32 sums taken in another order through the whole network.
  const double scale = amax(abs(expected)).item();
  const double worst = amax(abs(logits - expected)).item();
  CAPTURE(scale);
  CAPTURE(worst);
  MESSAGE(mox_name, ": worst |logit difference| ", worst, " at logit scale ", scale);
  CHECK(scale > 0);
  CHECK(worst <= rtol * scale);
}

}  // namespace mox::test
