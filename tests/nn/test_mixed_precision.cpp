// Mixed precision through the nn layers: every layer (and zoo::ConvBn) run in f16 and bf16,
// forward and backward, against the same layer in f32 on the same (rounded) values; the same
// layers with f32 master weights under nn::VarScope; and clear errors for inputs of the wrong
// dtype.
#include <cmath>

#include "nn/layers.h"
#include "nn/var_scope.h"
#include "tests/support/check.h"
#include "zoo/blocks.h"

namespace mox::test {
namespace {

using namespace mox::nn;

struct LayerCase {
  std::string name;
  std::function<ModulePtr()> make;
  Shape input;
};

template <class M, class... A>
std::function<ModulePtr()> maker(A... args) {
  return [=] { return std::make_shared<M>(args...); };
}

// Batch norm in eval mode, after one training batch gave it running statistics.
ModulePtr bn_eval() {
  auto bn = std::make_shared<BatchNorm2d>(3);
  { NoGradGuard g; (*bn)(randn({4, 3, 5, 5}) * 2.0 + 1.0); }
  bn->eval();
  return bn;
}

std::vector<LayerCase> layer_cases() {
  std::vector<LayerCase> cases = {
      {"Dense", maker<Linear>(int64_t(24), int64_t(7), LinearOptions{}), {5, 24}},
      {"Dense relu no bias", maker<Linear>(int64_t(24), int64_t(7), LinearOptions{.bias = false, .activation = "relu"}), {5, 24}},
      {"Conv2D", maker<Conv2d>(int64_t(3), int64_t(4), int64_t(3), ConvOptions{.stride = 2, .padding = 1}), {2, 3, 9, 9}},
      {"Conv2D 1x1 relu", maker<Conv2d>(int64_t(4), int64_t(6), int64_t(1), ConvOptions{.activation = "relu"}), {2, 4, 5, 5}},
      {"Conv2D depthwise", maker<Conv2d>(int64_t(4), int64_t(4), int64_t(3), ConvOptions{.padding = 1, .groups = 4}), {2, 4, 6, 6}},
      {"Conv2D grouped 1x7", maker<Conv2d>(int64_t(4), int64_t(6), int64_t(1), ConvOptions{.kernel_w = 7, .padding_w = 3, .groups = 2}), {2, 4, 5, 8}},
      {"BatchNormalization train", maker<BatchNorm2d>(int64_t(3), 0.1, 1e-5), {4, 3, 5, 5}},
      {"BatchNormalization eval", bn_eval, {4, 3, 5, 5}},
      {"MaxPooling2D", maker<MaxPool2d>(int64_t(2), int64_t(0), int64_t(0)), {2, 3, 6, 6}},
      {"AveragePooling2D", maker<AvgPool2d>(int64_t(3), int64_t(2), int64_t(1)), {2, 3, 7, 7}},
      {"GlobalAveragePooling2D", maker<GlobalAvgPool>(), {2, 3, 4, 5}},
      {"Dropout", maker<Dropout>(0.3), {4, 40}},
      {"Flatten", maker<Flatten>(), {2, 3, 4, 4}},
      {"Concatenate",
       [] {
         return std::make_shared<Concat>(std::vector<ModulePtr>{
             std::make_shared<Conv2d>(3, 4, 1), std::make_shared<MaxPool2d>(3, 1, 1)});
       },
       {2, 3, 5, 5}},
      {"ConvBn", maker<zoo::ConvBn>(int64_t(3), int64_t(8), zoo::ConvBnOptions{}), {2, 3, 6, 6}},
  };
  for (const char* a : {"relu", "relu6", "sigmoid", "tanh", "elu", "leaky_relu", "gelu", "softplus",
                        "softmax", "log_softmax"})
    cases.push_back({std::string("Activation ") + a, maker<Activation>(std::string(a)), {3, 10}});
  return cases;
}

// Tolerances relative to the reference's largest magnitude: a low-precision result is off by a
// few units in its last place of the values around it.
Tolerance scaled(DType dt, const Tensor& ref) {
  Tolerance t = tolerance_for(dt);
  double peak = 0;
  for (double v : ref.tolist()) peak = std::max(peak, std::abs(v));
  return {t.rtol, t.atol * std::max(1.0, peak)};
}

struct Outputs {
  Tensor y, gx;
  std::map<std::string, Tensor> grads, buffers;
};

// Runs m on x (a leaf in dtype dt made from values), then backward of sum(y * w) for fixed
// pseudo-random weights w rounded to w_dt. The seed is set right before the forward so dropout
// draws the same mask in every run.
Outputs run(Module& m, const Tensor& values, DType dt, DType w_dt) {
  Tensor x = values.detach().to(dt).requires_grad_(true);  // a leaf of its own
  manual_seed(99);
  Outputs o;
  o.y = m(x);
  manual_seed(100);
  Tensor w = randn(o.y.sizes()).to(w_dt).to(o.y.dtype());
  sum(mul(o.y, w)).backward();
  o.gx = x.grad();
  for (auto& [n, p] : m.named_parameters()) o.grads[n] = p.grad();
  for (auto& [n, b] : m.named_buffers()) o.buffers[n] = b;
  return o;
}

void compare(const Outputs& low, const Outputs& ref, DType dt, DType param_dt) {
  CHECK(low.y.dtype() == dt);
  CHECK_ALLCLOSE(low.y.to(DType::f32), ref.y, scaled(dt, ref.y));
  REQUIRE(low.gx.defined());
  CHECK(low.gx.dtype() == dt);
  CHECK_ALLCLOSE(low.gx.to(DType::f32), ref.gx, scaled(dt, ref.gx));
  for (auto& [n, g] : ref.grads) {
    INFO("parameter ", n);
    REQUIRE(low.grads.at(n).defined());
    CHECK(low.grads.at(n).dtype() == param_dt);
    CHECK_ALLCLOSE(low.grads.at(n).to(DType::f32), g, scaled(dt, g));
  }
  for (auto& [n, b] : ref.buffers) {
    INFO("buffer ", n);
    CHECK(low.buffers.at(n).dtype() == param_dt);
    CHECK_ALLCLOSE(low.buffers.at(n).to(DType::f32), b, scaled(dt, b));
  }
}

}  // namespace

TEST_CASE("mixed precision: every layer runs forward and backward in f16 and bf16 like f32") {
  for (DType dt : {DType::f16, DType::bf16}) {
    for (const LayerCase& c : layer_cases()) {
      INFO(c.name, " in ", std::string(dtype_name(dt)));
      manual_seed(3);
      ModulePtr low = c.make();
      low->to(dt);
      manual_seed(3);
      ModulePtr ref = c.make();
      ref->load_state_dict(low->state_dict());  // the same rounded parameters
      manual_seed(5);
      Tensor values = randn(c.input).to(dt).to(DType::f32);  // the same rounded input
      compare(run(*low, values, dt, dt), run(*ref, values, DType::f32, dt), dt, dt);
    }
  }
}

TEST_CASE("mixed precision: under VarScope f32 master weights compute in the input dtype") {
  for (DType dt : {DType::f16, DType::bf16}) {
    for (const LayerCase& c : layer_cases()) {
      INFO(c.name, " in ", std::string(dtype_name(dt)), " with f32 masters");
      manual_seed(3);
      ModulePtr low = c.make();
      manual_seed(3);
      ModulePtr ref = c.make();
      manual_seed(5);
      Tensor values = randn(c.input).to(dt).to(DType::f32);
      Outputs lo;
      {
        VarScope scope({.force_dtype = DType::f32});
        lo = run(*low, values, dt, dt);
      }
      compare(lo, run(*ref, values, DType::f32, dt), dt, DType::f32);
    }
  }
}

TEST_CASE("mixed precision: parameters created inside a VarScope are f32 masters, whatever the module dtype") {
  Linear lazy(-1, 4);
  lazy.to(DType::f16);
  Tensor y;
  {
    VarScope scope({.force_dtype = DType::f32});
    CHECK(VarScope::force_dtype() == DType::f32);
    {
      VarScope off({});  // the innermost scope wins: no forcing in here
      CHECK_FALSE(VarScope::force_dtype().has_value());
    }
    y = lazy(randn({3, 6}).to(DType::f16));
  }
  CHECK_FALSE(VarScope::force_dtype().has_value());
  CHECK(lazy.weight.dtype() == DType::f32);
  CHECK(lazy.bias.dtype() == DType::f32);
  CHECK(y.dtype() == DType::f16);
  // Outside a scope the f32 parameters are used as they are: f16 input promotes to f32.
  CHECK(lazy(randn({3, 6}).to(DType::f16)).dtype() == DType::f32);
  mentions(thrown<TypeError>([] { VarScope bad({.force_dtype = DType::i32}); }), {"var_scope", "i32"});
}

TEST_CASE("mixed precision: inputs of a non-floating dtype fail naming the op and the dtype") {
  Tensor ints = zeros({2, 3, 6, 6}, opts(DType::i64));
  Conv2d conv(3, 4, 3);
  conv.to(DType::f16);
  mentions(thrown<TypeError>([&] { conv(ints); }), {"conv2d", "i64"});
  Linear dense(6, 2);
  {
    VarScope scope({.force_dtype = DType::f32});  // an integer input is not cast to
    mentions(thrown<TypeError>([&] { dense(zeros({2, 6}, opts(DType::i64))); }), {"linear", "i64"});
    BatchNorm2d bn(3);
    mentions(thrown<TypeError>([&] { bn(ints); }), {"batch_norm", "i64"});
  }
  mentions(thrown<TypeError>([&] { dense.to(DType::i32); }), {"Module::to", "i32"});
}

}  // namespace mox::test
