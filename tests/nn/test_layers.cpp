// Layers and Module: Linear / Conv2d against direct op calls, lazily sized layers, Keras
// initializer statistics, BatchNorm2d train vs eval, Dropout, Concat, parameter naming,
// state_dict round trips and errors, to(dtype), regularization losses and set_trainable.
// Sequential's naming and summary() live in test_sequential.cpp.
#include <cmath>

#include "nn/layers.h"
#include "nn/optim/optimizer.h"
#include "nn/sequential.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

using namespace mox::nn;

struct Stats {
  double mean, std, min, max;
};
Stats stats(const Tensor& t) {
  std::vector<double> v = t.tolist();
  double s = 0, ss = 0, lo = v[0], hi = v[0];
  for (double x : v) {
    s += x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  double m = s / double(v.size());
  for (double x : v) ss += (x - m) * (x - m);
  return {m, std::sqrt(ss / double(v.size())), lo, hi};
}

std::vector<std::string> names_of(const NamedTensors& nt) {
  std::vector<std::string> out;
  for (auto& [n, t] : nt) out.push_back(n);
  return out;
}

const Tolerance kExact{0, 0};

}  // namespace

TEST_CASE("layers: Linear and Conv2d give the direct op's shapes and values") {
  manual_seed(1);
  Linear dense(4, 3);
  REQUIRE(dense.weight.sizes() == Shape{3, 4});
  REQUIRE(dense.bias.sizes() == Shape{3});
  Tensor x = randn({2, 5, 4});
  Tensor y = dense(x);
  CHECK(y.sizes() == Shape{2, 5, 3});
  CHECK_ALLCLOSE(y, linear(x, dense.weight, dense.bias), kExact);
  Linear relu_dense(4, 3, {.bias = false, .activation = "relu"});
  CHECK_FALSE(relu_dense.bias.defined());
  CHECK(relu_dense.num_parameters() == 12);
  CHECK_ALLCLOSE(relu_dense(x), relu(linear(x, relu_dense.weight)), kExact);
  CHECK_THROWS_AS(dense(randn({2, 5})), ShapeError);
  CHECK_THROWS_AS(Linear(4, 3, {.activation = "swishy"}), Error);

  Conv2d conv(3, 8, 3, {.stride = 2, .padding = 1});
  REQUIRE(conv.weight.sizes() == Shape{8, 3, 3, 3});
  Tensor img = randn({2, 3, 9, 9});
  Tensor out = conv(img);
  CHECK(out.sizes() == Shape{2, 8, 5, 5});
  Conv2dOptions o;
  o.stride[0] = o.stride[1] = 2;
  o.padding[0] = o.padding[1] = 1;
  CHECK_ALLCLOSE(out, conv2d(img, conv.weight, conv.bias, o), kExact);
  // padding='same' keeps the spatial size; groups split the channels.
  Conv2d same(3, 6, 5, {.same_padding = true, .groups = 3, .activation = "tanh"});
  CHECK(same.weight.sizes() == Shape{6, 1, 5, 5});
  Conv2dOptions so;
  so.padding[0] = so.padding[1] = 2;
  so.groups = 3;
  CHECK_ALLCLOSE(same(img), tanh(conv2d(img, same.weight, same.bias, so)), kExact);
  CHECK_THROWS_AS(conv(randn({3, 9, 9})), ShapeError);
  CHECK_THROWS_AS(Conv2d(4, 6, 3, {.groups = 3}), ShapeError);
}

TEST_CASE("layers: sizes left as -1 are taken from the first input") {
  Linear dense(-1, 5);
  CHECK(dense.num_parameters() == 0);
  CHECK_FALSE(dense.weight.defined());
  Tensor y = dense(randn({2, 7}));
  CHECK(y.sizes() == Shape{2, 5});
  CHECK(dense.weight.sizes() == Shape{5, 7});
  CHECK(dense.weight.requires_grad());
  CHECK(names_of(dense.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK_THROWS_AS(dense(randn({2, 6})), ShapeError);  // built now

  Conv2d conv(-1, 4, 3);
  BatchNorm2d bn(-1);
  CHECK(conv(randn({1, 6, 5, 5})).sizes() == Shape{1, 4, 3, 3});
  CHECK(conv.weight.sizes() == Shape{4, 6, 3, 3});
  bn(randn({2, 4, 3, 3}));
  CHECK(bn.running_var.sizes() == Shape{4});
  // Sequential::build runs under NoGradGuard; the parameters still require grad.
  Sequential seq({std::make_shared<Conv2d>(-1, 2, 3), std::make_shared<Flatten>(), std::make_shared<Linear>(-1, 3)});
  seq.build({5, 6, 6});
  CHECK(seq.num_parameters() == (2 * 5 * 9 + 2) + (2 * 4 * 4 * 3 + 3));
  for (auto& [n, p] : seq.named_parameters()) CHECK_MESSAGE(p.requires_grad(), n);
  CHECK(seq(randn({3, 5, 6, 6})).sizes() == Shape{3, 3});
  CHECK_THROWS_AS(Linear(0, 3), Error);
  CHECK_THROWS_AS(Linear(-2, 3), Error);
}

TEST_CASE("init: Keras initializer statistics on large tensors") {
  manual_seed(7);
  SUBCASE("glorot_uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out))") {
    Stats s = stats(initialize(init::glorot_uniform(), {400, 600}));
    double l = std::sqrt(6.0 / 1000);
    CHECK(s.max <= l);
    CHECK(s.min >= -l);
    CHECK(s.max > 0.99 * l);
    CHECK(s.min < -0.99 * l);
    CHECK(s.std == doctest::Approx(l / std::sqrt(3.0)).epsilon(0.01));
    CHECK(std::fabs(s.mean) < 0.01 * l);
    // Conv fans: fan_in = I*kh*kw, fan_out = O*kh*kw.
    Stats c = stats(initialize(init::glorot_uniform(), {64, 32, 5, 5}));
    double lc = std::sqrt(6.0 / (32 * 25 + 64 * 25));
    CHECK(c.max <= lc);
    CHECK(c.max > 0.99 * lc);
  }
  SUBCASE("he_normal: std sqrt(2 / fan_in), truncated at two of its pre-truncation stddevs") {
    Stats s = stats(initialize(init::he_normal(), {128, 64, 3, 3}));  // fan_in 576
    double want = std::sqrt(2.0 / 576), cut = 2 * want / .87962566103423978;
    CHECK(s.std == doctest::Approx(want).epsilon(0.01));
    CHECK(s.max <= cut);
    CHECK(s.min >= -cut);
    CHECK(s.max > 0.98 * cut);
    Stats g = stats(initialize(init::glorot_normal(), {500, 300}));
    CHECK(g.std == doctest::Approx(std::sqrt(2.0 / 800)).epsilon(0.01));
    Stats hu = stats(initialize(init::he_uniform(), {200, 300}));
    CHECK(hu.max <= std::sqrt(6.0 / 300));
    CHECK(hu.max > 0.99 * std::sqrt(6.0 / 300));
  }
  SUBCASE("truncated_normal: within two standard deviations of the mean") {
    Stats s = stats(initialize(init::truncated_normal(0.5, 0.1), {200000}));
    CHECK(s.min >= 0.3);
    CHECK(s.max <= 0.7);
    CHECK(s.min < 0.302);
    CHECK(s.max > 0.698);
    CHECK(s.mean == doctest::Approx(0.5).epsilon(0.002));
    CHECK(s.std == doctest::Approx(0.1 * .87962566103423978).epsilon(0.01));  // a normal cut at 2 sigma
    Stats n = stats(initialize(init::normal(1, 2), {200000}));
    CHECK(n.std == doctest::Approx(2).epsilon(0.01));
    CHECK(n.max > 1 + 2 * 4);  // not truncated
  }
  SUBCASE("constants and uniform") {
    CHECK(initialize(init::zeros(), {3}).tolist() == std::vector<double>{0, 0, 0});
    CHECK(initialize(init::ones(), {2}).tolist() == std::vector<double>{1, 1});
    CHECK(initialize(init::constant(0.25), {2}).tolist() == std::vector<double>{0.25, 0.25});
    Stats u = stats(initialize(init::uniform(2, 3), {10000}));
    CHECK(u.min >= 2);
    CHECK(u.max <= 3);
    CHECK(initialize(init::glorot_uniform(), {3, 4}).dtype() == DType::f32);
    std::string msg = thrown<Error>([] { initialize({"lecun"}, {2}); });
    CHECK(msg.find("'lecun'") != std::string::npos);
    CHECK(msg.find("glorot_uniform") != std::string::npos);
  }
}

TEST_CASE("layers: BatchNorm2d normalizes with batch statistics in training, running ones in eval") {
  manual_seed(3);
  BatchNorm2d bn(3, 0.1, 1e-5);
  bn.weight.detach().copy_(from_vector({1, 2, 0.5}, {3}));
  bn.bias.detach().copy_(from_vector({0, -1, 3}, {3}));
  Tensor x = add(mul(randn({4, 3, 2, 2}), 3.0), 1.0);
  std::vector<double> v = x.tolist();
  auto at = [&](int n, int c, int i) { return v[size_t((n * 3 + c) * 4 + i)]; };
  std::vector<double> mean(3, 0), var(3, 0);  // biased, per channel over 16 values
  for (int c = 0; c < 3; ++c) {
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 4; ++i) mean[size_t(c)] += at(n, c, i) / 16;
    for (int n = 0; n < 4; ++n)
      for (int i = 0; i < 4; ++i) var[size_t(c)] += std::pow(at(n, c, i) - mean[size_t(c)], 2) / 16;
  }
  const double w[3] = {1, 2, 0.5}, b[3] = {0, -1, 3};
  Tensor y = bn(x);  // training mode
  std::vector<double> yv = y.tolist();
  for (int n = 0; n < 4; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 4; ++i) {
        double want = (at(n, c, i) - mean[size_t(c)]) / std::sqrt(var[size_t(c)] + 1e-5) * w[c] + b[c];
        CHECK(yv[size_t((n * 3 + c) * 4 + i)] == doctest::Approx(want).epsilon(1e-5));
      }
  // Running statistics: 0.9 * initial + 0.1 * batch (unbiased variance).
  std::vector<double> rm = bn.running_mean.tolist(), rv = bn.running_var.tolist();
  for (size_t c = 0; c < 3; ++c) {
    CHECK(rm[c] == doctest::Approx(0.1 * mean[c]).epsilon(1e-5));
    CHECK(rv[c] == doctest::Approx(0.9 + 0.1 * var[c] * 16 / 15).epsilon(1e-5));
  }
  bn.eval();
  CHECK_FALSE(bn.is_training());
  Tensor ye = bn(x);
  std::vector<double> yev = ye.tolist();
  for (int n = 0; n < 4; ++n)
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 4; ++i) {
        double want = (at(n, c, i) - rm[size_t(c)]) / std::sqrt(rv[size_t(c)] + 1e-5) * w[c] + b[c];
        CHECK(yev[size_t((n * 3 + c) * 4 + i)] == doctest::Approx(want).epsilon(1e-5));
      }
  CHECK(bn.running_mean.tolist() == rm);  // eval leaves them alone
  CHECK(names_of(bn.named_buffers()) == std::vector<std::string>{"running_mean", "running_var"});
}

TEST_CASE("layers: Dropout is the identity in eval and drops at its rate in training") {
  manual_seed(5);
  Dropout drop(0.25);
  Tensor x = ones({100000});
  Tensor yt = drop(x);
  Stats s = stats(yt);
  CHECK(s.max == doctest::Approx(1 / 0.75));
  CHECK(s.min == 0);
  CHECK(s.mean == doctest::Approx(1).epsilon(0.02));
  drop.eval();
  Tensor ye = drop(x);
  CHECK(ye.tolist() == x.tolist());
  CHECK_THROWS_AS(Dropout(1.0), Error);
  CHECK_THROWS_AS(Dropout(-0.1), Error);
}

TEST_CASE("layers: Concat runs every branch and joins the results, parameter names nest") {
  manual_seed(2);
  auto a = std::make_shared<Linear>(4, 3);
  auto inner = std::make_shared<Sequential>(std::vector<ModulePtr>{std::make_shared<Linear>(4, 2, LinearOptions{.bias = false})});
  Concat cat({a, inner});
  Tensor x = randn({5, 4});
  Tensor y = cat(x);
  CHECK(y.sizes() == Shape{5, 5});
  CHECK_ALLCLOSE(y.slice(1, 0, 3), (*a)(x), kExact);
  CHECK_ALLCLOSE(y.slice(1, 3, 5), (*inner)(x), kExact);
  CHECK(names_of(cat.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "1.dense.weight"});
  Sequential model({std::make_shared<Conv2d>(3, 4, 1),
                    std::make_shared<Concat>(std::vector<ModulePtr>{std::make_shared<Conv2d>(4, 2, 3, ConvOptions{.same_padding = true}),
                                                                    std::make_shared<BatchNorm2d>(4)})});
  CHECK(model(randn({2, 3, 5, 5})).sizes() == Shape{2, 6, 5, 5});
  CHECK(names_of(model.named_parameters()) ==
        std::vector<std::string>{"conv2d.weight", "conv2d.bias", "concatenate.0.weight", "concatenate.0.bias",
                                 "concatenate.1.weight", "concatenate.1.bias"});
  CHECK(names_of(model.named_buffers()) ==
        std::vector<std::string>{"concatenate.1.running_mean", "concatenate.1.running_var"});
  CHECK(model.parameters().size() == 6);
  CHECK(model.parameters(false).empty());
  CHECK_THROWS_AS(Concat({}), Error);
}

TEST_CASE("module: state_dict / load_state_dict round trip and errors naming the entry") {
  auto make = [] {
    return std::make_shared<Sequential>(std::vector<ModulePtr>{
        std::make_shared<Conv2d>(1, 2, 3), std::make_shared<BatchNorm2d>(2), std::make_shared<Flatten>(),
        std::make_shared<Linear>(8, 3)});
  };
  manual_seed(11);
  auto a = make();
  (*a)(randn({4, 1, 4, 4}));  // moves the running statistics
  auto b = make();
  auto sd = a->state_dict();
  CHECK(sd.size() == 8);
  CHECK(sd.count("batch_normalization.running_var"));
  Tensor b_weight = b->parameters()[0];
  b->load_state_dict(sd);
  CHECK(b->parameters()[0].is_same(b_weight));  // copied into, not replaced
  CHECK(b_weight.requires_grad());
  for (auto& [name, t] : b->state_dict()) CHECK_MESSAGE(t.tolist() == sd.at(name).tolist(), name);
  a->eval();
  b->eval();
  Tensor x = randn({2, 1, 4, 4});
  CHECK_ALLCLOSE((*b)(x), (*a)(x), kExact);
  // f64 values load into the f32 model (cast).
  auto sd64 = sd;
  sd64["dense.bias"] = sd.at("dense.bias").to(DType::f64);
  b->load_state_dict(sd64);
  CHECK(b->state_dict().at("dense.bias").dtype() == DType::f32);

  auto wrong_shape = sd;
  wrong_shape["dense.weight"] = zeros({3, 9});
  std::string msg = thrown<Error>([&] { b->load_state_dict(wrong_shape); });
  CHECK(msg.find("'dense.weight'") != std::string::npos);
  CHECK(msg.find("[3, 9]") != std::string::npos);
  CHECK_THROWS_AS(b->load_state_dict(wrong_shape), ShapeError);
  auto missing = sd;
  missing.erase("conv2d.bias");
  CHECK(thrown<Error>([&] { b->load_state_dict(missing); }).find("missing entry 'conv2d.bias'") != std::string::npos);
  b->load_state_dict(missing, false);  // non-strict: allowed
  auto unexpected = sd;
  unexpected["dense_1.weight"] = zeros({1});
  CHECK(thrown<Error>([&] { b->load_state_dict(unexpected); }).find("unexpected entry 'dense_1.weight'") !=
        std::string::npos);
  b->load_state_dict(unexpected, false);
  auto wrong_type = sd;
  wrong_type["dense.bias"] = zeros({3}, opts(DType::i64));
  CHECK_THROWS_AS(b->load_state_dict(wrong_type), TypeError);
  // A failed load changes nothing, even entries checked before the bad one.
  auto poisoned = wrong_shape;
  poisoned["conv2d.weight"] = full({2, 1, 3, 3}, 9.0);
  poisoned["batch_normalization.running_mean"] = full({2}, 9.0);
  CHECK_THROWS_AS(b->load_state_dict(poisoned, false), ShapeError);
  for (auto& [name, t] : b->state_dict()) CHECK_MESSAGE(t.tolist() == sd.at(name).tolist(), name);
}

TEST_CASE("module: to(f64) casts in place, keeping the parameter handles") {
  manual_seed(4);
  Sequential model({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm2d>(4)});
  auto dense = std::dynamic_pointer_cast<Linear>(model.children()[0].second);
  auto bn = std::dynamic_pointer_cast<BatchNorm2d>(model.children()[1].second);
  Tensor handle = dense->weight;
  std::vector<double> before = handle.tolist();
  auto opt = get_optimizer_fn("sgd", 0.1)(model.parameters());
  model.to(DType::f64);
  CHECK(dense->weight.is_same(handle));
  CHECK(handle.dtype() == DType::f64);
  CHECK(handle.tolist() == before);
  CHECK(handle.requires_grad());
  CHECK(bn->running_var.dtype() == DType::f64);
  CHECK(opt->params()[0].dtype() == DType::f64);
  Tensor y = model(randn({5, 3}, opts(DType::f64)));
  CHECK(y.dtype() == DType::f64);
  sum(y).backward();
  CHECK(handle.grad().dtype() == DType::f64);
  opt->step();
  CHECK(handle.tolist() != before);
  model.to(DType::f32);
  CHECK(dense->weight.dtype() == DType::f32);
}

TEST_CASE("module: regularization losses are weight_decay * sum(w^2) / 2") {
  manual_seed(6);
  Sequential model({std::make_shared<Conv2d>(2, 3, 3, ConvOptions{.weight_decay = 0.1}), std::make_shared<Flatten>(),
                    std::make_shared<Linear>(3, 2, LinearOptions{.weight_decay = 0.01}),
                    std::make_shared<Linear>(2, 2)});
  auto conv = std::dynamic_pointer_cast<Conv2d>(model.children()[0].second);
  auto dense = std::dynamic_pointer_cast<Linear>(model.children()[2].second);
  TensorList losses = model.regularization_losses();
  REQUIRE(losses.size() == 2);  // biases and the undecayed layer add nothing
  auto sumsq = [](const Tensor& t) {
    double s = 0;
    for (double v : t.tolist()) s += v * v;
    return s;
  };
  CHECK(losses[0].item() == doctest::Approx(0.1 * sumsq(conv->weight) / 2).epsilon(1e-6));
  CHECK(losses[1].item() == doctest::Approx(0.01 * sumsq(dense->weight) / 2).epsilon(1e-6));
  add(losses[0], losses[1]).backward();
  CHECK_ALLCLOSE(conv->weight.grad(), mul(conv->weight.detach(), 0.1), (Tolerance{1e-6, 1e-7}));
  CHECK_FALSE(conv->bias.grad().defined());
}

TEST_CASE("module: set_trainable(false) freezes every parameter") {
  Sequential model({std::make_shared<Linear>(3, 4), std::make_shared<BatchNorm2d>(4)});
  CHECK(model.num_parameters() == 16 + 8);
  CHECK(model.num_parameters(true) == 24);
  model.set_trainable(false);
  CHECK(model.num_parameters(true) == 0);
  CHECK(model.num_parameters() == 24);
  for (Tensor& p : model.parameters()) CHECK_FALSE(p.requires_grad());
  model.set_trainable(true);
  CHECK(model.num_parameters(true) == 24);
  // zero_grad clears what backward left.
  sum(model(ones({2, 3}))).backward();
  CHECK(model.parameters()[0].grad().defined());
  model.zero_grad();
  for (Tensor& p : model.parameters())
    if (p.grad().defined()) CHECK(stats(p.grad()).max == 0);
}

}  // namespace mox::test
