// Registry entries for the softmax and loss family (cases in tests/ref/cases_loss.py), plus
// direct tests of behaviour the reference cases do not reach: numerical stability, the
// gradient of probability targets against the closed form, and in_top_k's edge rules.
#include <cmath>
#include <limits>

#include "tests/support/check.h"

namespace mox::test {
namespace {

Reduction parse_reduction(const nlohmann::json& args) {
  std::string r = args.value("reduction", std::string("mean"));
  if (r == "none") return Reduction::none;
  if (r == "sum") return Reduction::sum;
  REQUIRE_MESSAGE(r == "mean", "unknown reduction ", r);
  return Reduction::mean;
}

DType parse_dtype(const std::string& s) {
  static const std::map<std::string, DType> names = {
      {"f32", DType::f32}, {"f64", DType::f64}, {"f16", DType::f16}, {"bf16", DType::bf16},
      {"i64", DType::i64}, {"i32", DType::i32}, {"u8", DType::u8}, {"bool", DType::boolean}};
  return names.at(s);
}

}  // namespace

MOX_TEST_OP(softmax, true) { return {softmax(in[0], args.value("dim", int64_t(-1)))}; }
MOX_TEST_OP(log_softmax, true) { return {log_softmax(in[0], args.value("dim", int64_t(-1)))}; }
MOX_TEST_OP(cross_entropy, true) {
  Tensor target = in[1];
  if (args.contains("target_dtype")) target = target.to(parse_dtype(args["target_dtype"]));
  return {cross_entropy(in[0], target, parse_reduction(args), args.value("label_smoothing", 0.0))};
}
MOX_TEST_OP(nll_loss, true) { return {nll_loss(in[0], in[1], parse_reduction(args))}; }
MOX_TEST_OP(mse_loss, true) { return {mse_loss(in[0], in[1], parse_reduction(args))}; }
MOX_TEST_OP(one_hot, false) {
  return {one_hot(in[0], args["num_classes"].get<int64_t>(),
                  parse_dtype(args.value("dtype", std::string("f32"))))};
}
MOX_TEST_OP(in_top_k, false) { return {in_top_k(in[0], in[1], args["k"].get<int64_t>())}; }

TEST_CASE("softmax: stable for huge logits, rows sum to one, any dim") {
  Tensor x = from_vector({1000, 1001, 1002, -1000, 0, 1000}, {2, 3});
  Tensor y = softmax(x, 1);
  std::vector<double> v = y.tolist();
  for (double e : v) CHECK(std::isfinite(e));
  CHECK(v[0] + v[1] + v[2] == doctest::Approx(1.0));
  CHECK(v[5] == doctest::Approx(1.0));
  Tensor ls = log_softmax(x, 1);
  CHECK(ls.tolist()[2] == doctest::Approx(-0.40760596444438));
  CHECK(ls.tolist()[3] == doctest::Approx(-2000.0));
  // Over dim 0 of the same values: columns sum to one.
  std::vector<double> c = softmax(x, 0).tolist();
  for (int j = 0; j < 3; ++j) CHECK(c[j] + c[3 + j] == doctest::Approx(1.0));
  // A 0-d tensor is a single class.
  CHECK(softmax(scalar_tensor(3.5)).item() == 1.0);
  CHECK(log_softmax(scalar_tensor(3.5)).item() == 0.0);
}

TEST_CASE("softmax: a row of -inf gives NaN like PyTorch, a -inf entry gives 0") {
  double inf = std::numeric_limits<double>::infinity();
  std::vector<double> v = softmax(from_vector({-inf, -inf, 0, -inf}, {2, 2}), 1).tolist();
  CHECK(std::isnan(v[0]));
  CHECK(v[2] == 1.0);
  CHECK(v[3] == 0.0);
}

TEST_CASE("softmax: empty tensors and f16 keep their shape and dtype") {
  CHECK(softmax(zeros({0, 4}), 1).sizes() == Shape{0, 4});
  Tensor h = softmax(from_vector({1, 2, 3}, {3}, opts(DType::f16)));
  CHECK(h.dtype() == DType::f16);
  CHECK(h.to(DType::f32).tolist()[2] == doctest::Approx(0.66524).epsilon(1e-3));
}

TEST_CASE("cross_entropy: probability-target gradients match the closed form") {
  Tensor x = from_vector({0.3, -1.2, 2.0, 0.5, 0.1, -0.4}, {2, 3}, opts(DType::f64));
  Tensor t = from_vector({0.2, 0.3, 0.5, 1.0, 0.0, 0.0}, {2, 3}, opts(DType::f64));
  x.requires_grad_();
  t.requires_grad_();
  Tensor loss = cross_entropy(x, t, Reduction::sum);
  loss.backward();
  NoGradGuard g;
  Tensor p = softmax(x.detach(), 1), lp = log_softmax(x.detach(), 1);
  // Each row of t sums to 1: d/dx = p - t; d/dt = -log p.
  CHECK_ALLCLOSE(x.grad(), sub(p, t.detach()), tolerance_for(DType::f64));
  CHECK_ALLCLOSE(t.grad(), neg(lp), tolerance_for(DType::f64));
}

TEST_CASE("cross_entropy: one-hot probabilities equal class indices, with smoothing too") {
  Tensor x = from_vector({0.3, -1.2, 2.0, 0.5, 0.1, -0.4, 1.5, 1.5, -2}, {3, 3});
  Tensor idx = from_vector({2, 0, 1}, {3}, opts(DType::i64));
  for (double eps : {0.0, 0.1}) {
    Tensor a = cross_entropy(x, idx, Reduction::none, eps);
    Tensor b = cross_entropy(x, one_hot(idx, 3), Reduction::none, eps);
    CHECK_ALLCLOSE(a, b, tolerance_for(DType::f32));
    Tensor c = cross_entropy(x, idx.to(DType::i32), Reduction::mean, eps);
    CHECK(c.item() == doctest::Approx(mean(a).item()));
  }
}

TEST_CASE("nll_loss and cross_entropy: 1-d input takes a 0-d target") {
  Tensor x = from_vector({0.5, 1.5, -1}, {3});
  Tensor t = scalar_tensor(1, opts(DType::i64));
  Tensor l = cross_entropy(x, t, Reduction::none);
  CHECK(l.dim() == 0);
  CHECK(l.item() == doctest::Approx(-log_softmax(x).tolist()[1]));
  CHECK(nll_loss(log_softmax(x), t).item() == doctest::Approx(l.item()));
}

TEST_CASE("one_hot: dtypes, inferred num_classes and u8 indices") {
  Tensor idx = from_vector({0, 2, 1}, {3}, opts(DType::i32));
  Tensor b = one_hot(idx, 4, DType::boolean);
  CHECK(b.dtype() == DType::boolean);
  CHECK(b.tolist() == std::vector<double>{1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0});
  Tensor inferred = one_hot(idx.to(DType::u8), -1, DType::i64);
  CHECK(inferred.sizes() == Shape{3, 3});
  CHECK(inferred.tolist() == std::vector<double>{1, 0, 0, 0, 0, 1, 0, 1, 0});
  CHECK(one_hot(idx, 3, DType::f16).to(DType::f32).tolist()[5] == 1.0);
}

TEST_CASE("in_top_k: ties count as in, non-finite rows and out-of-range targets are false") {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor p = from_vector({1, 3, 3, 2,     // target 2 ties the max: in for k=1
                          4, 3, 2, 1,     // target 3 is last: out for k=3, in for k=4
                          1, nan, 0, 0,   // a NaN in the row: false
                          1, 2, 3, 4},    // target 9 is out of range: false
                         {4, 4});
  Tensor t = from_vector({2, 3, 0, 9}, {4}, opts(DType::i64));
  CHECK(in_top_k(p, t, 1).tolist() == std::vector<double>{1, 0, 0, 0});
  CHECK(in_top_k(p, t, 3).tolist() == std::vector<double>{1, 0, 0, 0});
  CHECK(in_top_k(p, t, 4).tolist() == std::vector<double>{1, 1, 0, 0});
  CHECK(in_top_k(p, t, 100).dtype() == DType::boolean);
}

TEST_CASE("losses: f16 inputs compute in f32 and return f16") {
  Tensor x = from_vector({0.3, -1.2, 2.0, 0.5, 0.1, -0.4}, {2, 3}, opts(DType::f16));
  Tensor idx = from_vector({2, 0}, {2}, opts(DType::i64));
  Tensor l = cross_entropy(x, idx);
  CHECK(l.dtype() == DType::f16);
  double ref = cross_entropy(x.to(DType::f32), idx).item();
  CHECK(l.item() == doctest::Approx(ref).epsilon(1e-3));
  CHECK(mse_loss(x, zeros_like(x)).dtype() == DType::f16);
}

TEST_CASE("losses: large batch runs the parallel kernels and matches the small path") {
  Tensor x = arange(0, 200000, 1, opts(DType::f64)).reshape({2000, 100});
  x = mul(add(mul(x, 0.37), 1.0).sqrt(), 0.1);
  Tensor idx = from_vector(std::vector<double>(2000, 7), {2000}, opts(DType::i64));
  Tensor all = cross_entropy(x, idx, Reduction::none);
  Tensor one = cross_entropy(x.narrow(0, 1500, 1), idx.narrow(0, 0, 1), Reduction::none);
  CHECK(all.tolist()[1500] == doctest::Approx(one.item()));
  Tensor p = softmax(x, 1);
  CHECK(sum(p).item() == doctest::Approx(2000.0));
}

}  // namespace mox::test
