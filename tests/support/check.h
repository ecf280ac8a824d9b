// Test helpers every suite uses: allclose with per-dtype tolerances, a numerical gradient
// check (f64 central differences against backward, after flashlight's jacobianTestImpl), and
// the op registry through which the reference suite runs every op case.
#pragma once
#include <doctest/doctest.h>

#include <functional>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/autograd/node.h"
#include "core/ops.h"
#include "tests/support/command.h"

namespace mox::test {

struct Tolerance {
  double rtol, atol;
};
// f32: 1e-5 relative; f16/bf16: their precision; f64: tight.
Tolerance tolerance_for(DType dtype);

// Empty string when |actual - expected| <= atol + rtol * |expected| everywhere (shapes equal),
// else a message naming the first mismatch.
std::string allclose_message(const Tensor& actual, const Tensor& expected, Tolerance tol);
#define CHECK_ALLCLOSE(actual, expected, tol)                                     \
  do {                                                                            \
    std::string mox_msg_ = ::mox::test::allclose_message(actual, expected, tol);  \
    CHECK_MESSAGE(mox_msg_.empty(), mox_msg_);                                    \
  } while (0)

// Compares backward's gradient of sum(f(inputs) * w) (w fixed pseudo-random weights) with
// central differences, for every input that requires grad. Inputs must be f64. Returns an
// empty string on success, else a description of the worst mismatch.
using TestFn = std::function<TensorList(const TensorList&)>;
std::string gradcheck(const TestFn& f, const TensorList& inputs, double eps = 1e-6,
                      double atol = 1e-6, double rtol = 1e-4);

// Runs f, checks it throws E, and returns the message ("" when it did not throw).
template <class E, class F>
std::string thrown(F&& f) {
  std::string msg;
  auto run = [&] {
    try {
      f();
    } catch (const E& e) {
      msg = e.what();
      throw;
    }
  };
  CHECK_THROWS_AS(run(), E);
  return msg;
}

// Checks that every part appears in msg.
void mentions(const std::string& msg, std::initializer_list<const char*> parts);

// A strided copy of x (same values, non-contiguous memory) for layout coverage.
Tensor noncontiguous_copy(const Tensor& x);

// ---- the op registry: name -> how to call the op from a reference case's inputs and args
using OpFn = std::function<TensorList(const TensorList& inputs, const nlohmann::json& args)>;
struct OpEntry {
  OpFn fn;
  bool differentiable;
};
std::map<std::string, OpEntry>& op_registry();
bool register_op(const char* name, bool differentiable, OpFn fn);

}  // namespace mox::test

// MOX_TEST_OP(name, differentiable) { ...body using `in` and `args`, returning TensorList... }
#define MOX_TEST_OP(name, differentiable)                                                   \
  static ::mox::TensorList mox_test_op_##name(const ::mox::TensorList& in,                  \
                                              const nlohmann::json& args);                  \
  [[maybe_unused]] static const bool mox_test_op_registered_##name =                        \
      ::mox::test::register_op(#name, differentiable, mox_test_op_##name);                  \
  static ::mox::TensorList mox_test_op_##name([[maybe_unused]] const ::mox::TensorList& in, \
                                              [[maybe_unused]] const nlohmann::json& args)
