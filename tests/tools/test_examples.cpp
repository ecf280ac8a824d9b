// The manual's getting-started program (tools/examples/mnist_softmax.cpp) on Fashion-MNIST:
// it reaches 83% test accuracy, and a second run finds the finished checkpoint, trains no
// more and reports the same accuracy from EVAL.
#include <filesystem>
#include <regex>

#include "tests/support/check.h"

namespace mox::test {
namespace {

std::string run_capture(const std::string& cmd) {
  Run r = run_command(cmd);
  CHECK(r.status == 0);
  return r.output;
}

double accuracy_in(const std::string& text) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(R"(test accuracy: ([0-9.]+))")), text);
  return std::stod(m[1]);
}

}  // namespace

TEST_CASE("mnist_softmax example: >= 83% on Fashion-MNIST, and EVAL of the checkpoint agrees") {
  std::string dir = (std::filesystem::temp_directory_path() / "mox_example_softmax").string();
  std::filesystem::remove_all(dir);
  std::string cmd = std::string(MOX_BIN_DIR) + "/mnist_softmax --log_every_n_steps=1000 --train_url=" + dir;
  std::string first = run_capture(cmd);
  double acc = accuracy_in(first);
  CHECK_MESSAGE(acc >= 0.83, first);
  std::string second = run_capture(cmd);
  CHECK(second.find("trained 0 steps") != std::string::npos);
  CHECK(accuracy_in(second) == doctest::Approx(acc).epsilon(1e-6));
  std::filesystem::remove_all(dir);
}

}  // namespace mox::test
