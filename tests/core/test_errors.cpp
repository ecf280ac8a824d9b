// The core's bad-input suite: every bad call throws mox::Error (or the subclass named) and the
// message names the op together with the shapes, dtypes or values involved, so a user can
// tell what went wrong without a debugger.
#include <initializer_list>
#include <string>

#include "tests/support/check.h"

namespace mox::test {
namespace {


Tensor m23() { return arange(6).reshape({2, 3}); }
Tensor ints(const Shape& s) { return zeros(s, opts(DType::i64)); }

}  // namespace

TEST_CASE("errors: broadcasting mismatches name the op and both shapes") {
  mentions(thrown<ShapeError>([] { add(zeros({2, 3}), zeros({4})); }), {"add", "[2, 3]", "[4]"});
  mentions(thrown<ShapeError>([] { mul(zeros({2, 3}), zeros({3, 2})); }), {"mul", "[2, 3]", "[3, 2]"});
  mentions(thrown<ShapeError>([] {
             where(zeros({2, 3}, opts(DType::boolean)), zeros({2, 3}), zeros({5}));
           }),
           {"where", "[2, 3]", "[5]"});
  mentions(thrown<ShapeError>([] {
             Tensor a = zeros({3});
             a.add_(zeros({2, 3}));
           }),
           {"add_", "[2, 3]", "[3]"});
}

TEST_CASE("errors: wrong dtypes name the op and the dtype") {
  mentions(thrown<TypeError>([] { exp(ints({2})); }), {"exp", "i64", "[2]"});
  mentions(thrown<TypeError>([] { where(zeros({2}), zeros({2}), zeros({2})); }),
           {"where", "bool", "f32"});
  mentions(thrown<TypeError>([] { ints({2, 2}).requires_grad_(); }),
           {"requires_grad_", "i64", "[2, 2]"});
  mentions(thrown<TypeError>([] { softmax(ints({2, 3})); }), {"softmax", "i64"});
  mentions(thrown<TypeError>([] { zeros({2, 3}).data_ptr<double>(); }),
           {"data_ptr", "f64", "f32", "[2, 3]"});
  mentions(thrown<TypeError>([] { nll_loss(zeros({2, 3}), zeros({2})); }),
           {"nll_loss", "target", "f32", "[2]"});
  mentions(thrown<TypeError>([] { one_hot(zeros({3}), 4); }), {"one_hot", "f32", "[3]"});
}

TEST_CASE("errors: out-of-range dims and indices") {
  mentions(thrown<IndexError>([] { sum(zeros({2, 3}), {5}); }), {"sum", "dim 5", "2-d"});
  mentions(thrown<IndexError>([] { zeros({2, 3}).transpose(0, 3); }), {"transpose", "dim 3", "2-d"});
  mentions(thrown<IndexError>([] { zeros({2, 3}).select(0, 2); }), {"select", "index 2", "[2, 3]"});
  mentions(thrown<IndexError>([] { zeros({2, 3}).narrow(1, 2, 2); }),
           {"narrow", "[2, 4)", "[2, 3]"});
  mentions(thrown<IndexError>([] { zeros({2, 3}).unsqueeze(4); }), {"unsqueeze", "dim 4", "[2, 3]"});
  mentions(thrown<IndexError>([] { log_softmax(zeros({2, 3}), 2); }), {"log_softmax", "dim 2", "2-d"});
}

TEST_CASE("errors: views, reshapes and joins") {
  mentions(thrown<ShapeError>([] { m23().t().view({6}); }), {"view", "contiguous", "[3, 2]"});
  mentions(thrown<ShapeError>([] { m23().reshape({4, 2}); }), {"reshape", "[4, 2]", "[2, 3]"});
  mentions(thrown<ShapeError>([] { zeros({2, 3}).expand({2, 4}); }), {"expand", "[2, 3]", "[2, 4]"});
  mentions(thrown<ShapeError>([] { zeros({2, 3}).permute({0, 0}); }), {"permute", "[0, 0]"});
  mentions(thrown<ShapeError>([] { concat({zeros({2, 3}), zeros({2, 4})}, 0); }),
           {"concat", "[2, 3]", "[2, 4]"});
  mentions(thrown<ShapeError>([] { stack({zeros({2, 3}), zeros({3, 2})}); }),
           {"stack", "[2, 3]", "[3, 2]"});
  mentions(thrown<ShapeError>([] { split_sizes(zeros({5, 2}), {2, 2}); }),
           {"split", "[2, 2]", "[5, 2]"});
  mentions(thrown<ShapeError>([] { pad(zeros({2, 3}), {-1, 1}); }), {"pad", "[-1, 1]", "[2, 3]"});
  mentions(thrown<ShapeError>([] { pad(zeros({2, 3}), {1, 1, 1}); }), {"pad", "[2, 3]", "3 values"});
}

TEST_CASE("errors: losses name the op, the shapes and the bad value") {
  Tensor logits = zeros({4, 5});
  mentions(thrown<ShapeError>([&] { cross_entropy(logits, ints({3})); }),
           {"cross_entropy", "[3]", "[4, 5]", "[4]"});
  mentions(thrown<IndexError>([&] {
             cross_entropy(logits, from_vector({0, 1, 5, 2}, {4}, opts(DType::i64)));
           }),
           {"cross_entropy", "target 5", "position 2", "5 classes"});
  mentions(thrown<IndexError>([&] {
             nll_loss(logits, from_vector({0, -1, 1, 2}, {4}, opts(DType::i32)));
           }),
           {"nll_loss", "target -1", "position 1"});
  mentions(thrown<ShapeError>([&] { cross_entropy(logits, zeros({4, 4})); }),
           {"cross_entropy", "[4, 4]", "[4, 5]"});
  mentions(thrown<Error>([&] { cross_entropy(logits, ints({4}), Reduction::mean, 1.5); }),
           {"cross_entropy", "label_smoothing", "1.5"});
  mentions(thrown<ShapeError>([] { mse_loss(zeros({3}), zeros({3, 1})); }),
           {"mse_loss", "[3]", "[3, 1]"});
  mentions(thrown<IndexError>([] { one_hot(from_vector({1, 4}, {2}, opts(DType::i64)), 4); }),
           {"one_hot", "index 4", "num_classes 4"});
  mentions(thrown<Error>([] { in_top_k(zeros({2, 3}), ints({2}), 0); }),
           {"in_top_k", "k", "0", "[2, 3]"});
  mentions(thrown<ShapeError>([] { in_top_k(zeros({2, 3}), ints({3}), 1); }),
           {"in_top_k", "[3]", "[2, 3]"});
}

TEST_CASE("errors: autograd misuse") {
  Tensor x = ones({2, 3}, opts(DType::f32, Device::cpu(), true));
  mentions(thrown<AutogradError>([&] { mul(x, 2.0).backward(); }), {"backward", "scalar", "[2, 3]"});
  mentions(thrown<AutogradError>([&] {
             Tensor loss = sum(mul(x, x));
             loss.backward();
             loss.backward();
           }),
           {"second time", "retain_graph"});
  mentions(thrown<AutogradError>([&] {
             Tensor y = exp(x);  // saves its output
             Tensor loss = sum(y);
             y.mul_(2.0);
             loss.backward();
           }),
           {"exp", "modified in place", "[2, 3]"});
  mentions(thrown<AutogradError>([&] { x.add_(ones({2, 3})); }), {"add_", "leaf", "[2, 3]"});
  mentions(thrown<AutogradError>([] { zeros({2}).backward(); }), {"backward", "[2]", "grad"});
  mentions(thrown<AutogradError>([] { zeros({2}).retain_grad(); }), {"retain_grad", "[2]"});
  mentions(thrown<AutogradError>([&] { mul(x, 2.0).register_hook([](const Tensor&) {}); }),
           {"register_hook", "leaf", "[2, 3]"});
  mentions(thrown<ShapeError>([&] { sum(x).backward(ones({2})); }), {"backward", "[2]", "[]"});
}

TEST_CASE("errors: tensor access and factories") {
  mentions(thrown<Error>([] { zeros({2, 3}).item(); }), {"item", "[2, 3]"});
  mentions(thrown<ShapeError>([] { empty({2, -1}); }), {"empty", "[2, -1]"});
  mentions(thrown<ShapeError>([] { from_vector({1, 2, 3}, {2, 2}); }), {"from_vector", "3", "[2, 2]"});
  mentions(thrown<Error>([] { Tensor().sizes(); }), {"undefined"});
  mentions(thrown<Error>([] { clamp(zeros({2}), 1, 0); }), {"clamp", "min 1", "max 0"});
  mentions(thrown<Error>([] { arange(0, 5, 0); }), {"arange", "step=0"});
}

}  // namespace mox::test
