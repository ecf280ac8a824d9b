// MoXing's piecewise_lr: the manual's example strategy pinned at chosen epochs, the rate by
// global step, and malformed strategies.
//
// Reading of "END:spec" used here: a stage covers the epochs (previous END, END] (the first
// one [0, END]); "a->b" ramps linearly from a to b over the stage, "a=>b" geometrically, a
// bare "v" is constant; after the last stage its last value holds. (The manual's prose says
// "15 to 20 constant 0.8" for "15:0.8,20:0.08", which contradicts its own stage syntax; the
// stage syntax wins: 0.8 over (10, 15], 0.08 over (15, 20] and after.)
#include <cmath>

#include "nn/optim/lr_schedule.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

const char* kManual = "5:0.1->0.4,10:0.4=>0.8,15:0.8,20:0.08";

std::string error_of(const std::string& strategy) {
  try {
    nn::parse_lr_strategy(strategy);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("piecewise_lr: the manual's example strategy") {
  auto stages = nn::parse_lr_strategy(kManual);
  REQUIRE(stages.size() == 4);
  CHECK(stages[0].kind == nn::LrStage::linear);
  CHECK(stages[1].kind == nn::LrStage::exponential);
  CHECK(stages[2].kind == nn::LrStage::constant);
  CHECK(stages[3].kind == nn::LrStage::constant);
  CHECK(stages[3].end_epoch == 20);
  struct Pin {
    double epoch, lr;
  };
  const Pin pins[] = {
      {0, 0.1},                      // start of the linear ramp 0.1 -> 0.4 over [0, 5]
      {2.5, 0.25},                   // halfway: 0.1 + 0.5 * (0.4 - 0.1)
      {5, 0.4},                      // end of the ramp (epoch 5 belongs to the first stage)
      {7.5, 0.565685424949238},      // geometric halfway: 0.4 * (0.8 / 0.4)^0.5 = 0.4 * sqrt(2)
      {10, 0.8},                     // end of the geometric ramp
      {12, 0.8},                     // constant stage (10, 15]
      {15, 0.8},                     // its last epoch still 0.8
      {17, 0.08},                    // constant stage (15, 20]
      {20, 0.08},                    // its last epoch
      {30, 0.08},                    // after the last stage its value holds
  };
  for (const Pin& p : pins) {
    CAPTURE(p.epoch);
    CHECK(nn::lr_at_epoch(stages, p.epoch) == doctest::Approx(p.lr).epsilon(1e-12));
  }
  // Just inside the stage borders.
  CHECK(nn::lr_at_epoch(stages, 5 + 1e-9) == doctest::Approx(0.4).epsilon(1e-6));
  CHECK(nn::lr_at_epoch(stages, 15 + 1e-9) == doctest::Approx(0.08));
  // The geometric ramp is geometric at every point: lr(5 + 5f) = 0.4 * 2^f.
  for (double f : {0.1, 0.3, 0.9})
    CHECK(nn::lr_at_epoch(stages, 5 + 5 * f) == doctest::Approx(0.4 * std::pow(2.0, f)).epsilon(1e-12));
}

TEST_CASE("piecewise_lr: the rate by global step with num_samples / global_batch_size steps per epoch") {
  // 1000 samples, batches of 100: 10 steps per epoch.
  nn::LearningRate lr = nn::piecewise_lr(kManual, 1000, 100);
  CHECK(lr(0) == doctest::Approx(0.1));
  CHECK(lr(25) == doctest::Approx(0.25));                 // epoch 2.5
  CHECK(lr(50) == doctest::Approx(0.4));                  // epoch 5
  CHECK(lr(75) == doctest::Approx(0.565685424949238));    // epoch 7.5
  CHECK(lr(150) == doctest::Approx(0.8));                 // epoch 15
  CHECK(lr(151) == doctest::Approx(0.08));                // epoch 15.1
  CHECK(lr(1000000) == doctest::Approx(0.08));
  // 1000 samples, batches of 300: 10/3 steps per epoch; step 10 is epoch 3:
  // 0.1 + (3/5) * 0.3 = 0.28.
  nn::LearningRate lr3 = nn::piecewise_lr(kManual, 1000, 300);
  CHECK(lr3(10) == doctest::Approx(0.28).epsilon(1e-12));
  // Fractional stage ends.
  nn::LearningRate half = nn::piecewise_lr("0.5:1->0,1:0.5", 10, 1);  // 10 steps per epoch
  CHECK(half(0) == doctest::Approx(1.0));
  CHECK(half(2) == doctest::Approx(0.6));  // epoch 0.2: 1 - 0.2/0.5
  CHECK(half(5) == doctest::Approx(0.0));
  CHECK(half(6) == doctest::Approx(0.5));
  CHECK_THROWS_AS(nn::piecewise_lr(kManual, 0, 100), Error);
  CHECK_THROWS_AS(nn::piecewise_lr(kManual, 1000, 0), Error);
}

TEST_CASE("piecewise_lr: malformed strategies raise mox::Error quoting the stage") {
  struct Bad {
    const char* strategy;
    const char* quoted;  // must appear in the message
  };
  const Bad bad[] = {
      {"5:abc", "'5:abc'"},
      {"5-0.1", "'5-0.1'"},
      {"10:0.1,5:0.2", "'5:0.2'"},
      {"5:0.1,5:0.2", "'5:0.2'"},     // not after the previous end
      {"0:0.1", "'0:0.1'"},           // ends at epoch 0
      {"-2:0.1", "'-2:0.1'"},
      {"5:0.1->", "'5:0.1->'"},
      {"5:->0.1", "'5:->0.1'"},
      {"5:0.1=>0", "'5:0.1=>0'"},     // geometric ramps need positive ends
      {"5:0.1,,10:0.2", "''"},        // an empty stage
      {"x:0.1", "'x:0.1'"},
      {"5:0.1 0.2", "'5:0.1 0.2'"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.strategy);
    std::string msg = error_of(b.strategy);
    CHECK_MESSAGE(msg.find(b.quoted) != std::string::npos, "message: ", msg);
    CHECK(msg.find("piecewise_lr") != std::string::npos);
  }
  std::string empty = error_of("");
  CHECK(empty.find("empty") != std::string::npos);
}

}  // namespace mox::test
