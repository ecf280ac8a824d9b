// Engine behaviour: accumulation, shared subexpressions, grad mode, detach, retained grads,
// leaf hooks, very deep graphs (no recursion on backward or on release), in-place ops on
// non-leaves and integer outputs.
#include <cmath>

#include "tests/support/check.h"

namespace mox::test {
namespace {

Tensor leaf(std::vector<double> values, const Shape& shape) {
  return from_vector(values, shape, opts(DType::f64)).requires_grad_();
}

const Tolerance kTol = tolerance_for(DType::f64);

}  // namespace

TEST_CASE("autograd: gradients accumulate across two backward calls") {
  Tensor x = leaf({1, -2, 3}, {3});
  sum(mul(x, x)).backward();
  CHECK_ALLCLOSE(x.grad(), from_vector({2, -4, 6}, {3}, opts(DType::f64)), kTol);
  sum(mul(x, x)).backward();
  CHECK_ALLCLOSE(x.grad(), from_vector({4, -8, 12}, {3}, opts(DType::f64)), kTol);
  x.zero_grad();
  sum(mul(x, 3.0)).backward();
  CHECK_ALLCLOSE(x.grad(), full({3}, 3, opts(DType::f64)), kTol);
}

TEST_CASE("autograd: a shared subexpression sums the gradients of every use") {
  Tensor x = leaf({0.5, 2}, {2});
  Tensor y = mul(x, x);       // x used twice in one op
  Tensor z = add(y, mul(y, x));  // y used twice, x a third time: z = x^2 + x^3
  sum(z).backward();
  // dz/dx = 2x + 3x^2
  CHECK_ALLCLOSE(x.grad(), from_vector({1 + 0.75, 4 + 12}, {2}, opts(DType::f64)), kTol);
}

TEST_CASE("autograd: NoGradGuard records nothing and restores grad mode") {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard g;
    CHECK_FALSE(grad_mode_enabled());
    Tensor y = exp(mul(x, 2.0));
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    {
      NoGradGuard nested;
    }
    CHECK_FALSE(grad_mode_enabled());
  }
  CHECK(grad_mode_enabled());
  CHECK(mul(x, 2.0).requires_grad());
}

TEST_CASE("autograd: detach stops gradients and shares storage") {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.storage() == x.storage());
  sum(mul(d, x)).backward();  // only the x factor carries gradient: d(x*c)/dx = c
  CHECK_ALLCLOSE(x.grad(), from_vector({1, 2, 3}, {3}, opts(DType::f64)), kTol);
}

TEST_CASE("autograd: retain_grad keeps a non-leaf's gradient") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = mul(x, 3.0);
  y.retain_grad();
  Tensor z = sum(mul(y, y));
  z.backward();
  CHECK_ALLCLOSE(y.grad(), from_vector({6, 12}, {2}, opts(DType::f64)), kTol);   // 2y
  CHECK_ALLCLOSE(x.grad(), from_vector({18, 36}, {2}, opts(DType::f64)), kTol);  // 18x
  Tensor w = mul(x, 2.0);  // without retain_grad a non-leaf keeps no gradient
  sum(w).backward();
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("autograd: a leaf hook runs after accumulation and sees the accumulated gradient") {
  Tensor x = leaf({1, 2}, {2});
  sum(mul(x, 2.0)).backward();  // grad = 2
  std::vector<std::vector<double>> seen;
  x.register_hook([&](const Tensor& g) { seen.push_back(g.tolist()); });
  // Two uses of x in one graph: the hook runs once, after both contributions arrived.
  sum(add(mul(x, 3.0), x)).backward();  // + 4
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::vector<double>{6, 6});
  CHECK(x.grad().tolist() == std::vector<double>{6, 6});
}

TEST_CASE("autograd: a 100000-op chain neither overflows on backward nor on release") {
  constexpr int kDepth = 100000;
  Tensor x = leaf({1, 2}, {2});
  {
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = mul(y, 1.0001);
    sum(y).backward();
  }  // the released graph is dropped here
  double expect = std::pow(1.0001, kDepth);
  CHECK(x.grad().tolist()[0] == doctest::Approx(expect).epsilon(1e-9));
  {
    // Dropped without a backward pass: every node still holds its closure and edges.
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = mul(y, 1.0001);
    CHECK(y.grad_fn() != nullptr);
  }
  {
    // Kept with retain_graph, run twice, then dropped.
    Tensor y = x;
    for (int i = 0; i < kDepth; ++i) y = add(y, 1.0);
    x.zero_grad();
    Tensor s = sum(y);
    s.backward(Tensor(), true);
    s.backward();
    CHECK(x.grad().tolist() == std::vector<double>{2, 2});
  }
}

TEST_CASE("autograd: in-place add_ on a non-leaf keeps correct gradients") {
  Tensor x = leaf({0.5, -1, 2}, {3});
  Tensor y = mul(x, x);
  y.add_(x);  // y = x^2 + x
  CHECK(y.grad_fn() != nullptr);
  Tensor w = from_vector({1, 2, 3}, {3}, opts(DType::f64));
  sum(mul(y, w)).backward();
  // d/dx sum(w * (x^2 + x)) = w * (2x + 1)
  CHECK_ALLCLOSE(x.grad(), from_vector({2, -2, 15}, {3}, opts(DType::f64)), kTol);
  CHECK_ALLCLOSE(y.detach(), from_vector({0.75, 0, 6}, {3}, opts(DType::f64)), kTol);

  // The other operand of an in-place op gets its gradient too.
  Tensor a = leaf({1, 2}, {2}), b = leaf({3, 4}, {2});
  Tensor c = mul(a, 1.0);
  c.mul_(b);  // c = a * b
  sum(c).backward();
  CHECK(a.grad().tolist() == std::vector<double>{3, 4});
  CHECK(b.grad().tolist() == std::vector<double>{1, 2});
}

TEST_CASE("autograd: an integer argmax output carries no gradient state") {
  Tensor x = leaf({1, 5, 2, 7, 0, 3}, {2, 3});
  Tensor idx = argmax(x, 1);
  CHECK(idx.dtype() == DType::i64);
  CHECK_FALSE(idx.requires_grad());
  CHECK(idx.grad_fn() == nullptr);
  CHECK(idx.tolist() == std::vector<double>{1, 0});
  // The values half of max does carry gradient; its indices do not.
  ValuesIndices m = max(x, 1);
  CHECK(m.values.requires_grad());
  CHECK_FALSE(m.indices.requires_grad());
  sum(m.values).backward();
  CHECK(x.grad().tolist() == std::vector<double>{0, 1, 0, 1, 0, 0});
}

TEST_CASE("autograd: backward with an explicit gradient and through views") {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = mul(x.t(), 2.0);  // [3, 2]
  y.backward(from_vector({1, 0, 0, 1, 1, 1}, {3, 2}, opts(DType::f64)));
  CHECK(x.grad().tolist() == std::vector<double>{2, 0, 2, 0, 2, 2});
}

}  // namespace mox::test
