// Bad input to the random, batch-norm and dropout ops raises mox::Error (or a child) whose
// message names the op and the offending values, shapes or dtypes.
#include <string>

#include "tests/support/check.h"

namespace mox::test {
namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("errors: dropout rejects p outside 0..1 and non-float input") {
  Tensor x = randn({2, 3});
  CHECK_THROWS_AS(dropout(x, -0.1), Error);
  CHECK_THROWS_AS(dropout(x, 1.5), Error);
  CHECK_THROWS_AS(dropout(x, std::nan("")), Error);
  std::string msg = thrown<Error>([&] { dropout(x, 1.5); });
  CHECK(contains(msg, "dropout"));
  CHECK(contains(msg, "1.5"));
  CHECK(contains(msg, "[2, 3]"));
  CHECK_THROWS_AS(dropout(zeros({3}, opts(DType::i64)), 0.5), TypeError);
  CHECK(contains(thrown<Error>([] { dropout(zeros({3}, opts(DType::i64)), 0.5); }), "dropout"));
  CHECK_THROWS_AS(dropout(Tensor(), 0.5), Error);
}

TEST_CASE("errors: batch_norm checks the input's dims and the channel vectors' shapes") {
  Tensor x = randn({4, 3, 5});
  Tensor w3 = ones({3}), w4 = ones({4}), rm = zeros({3}), rv = ones({3});

  CHECK_THROWS_AS(batch_norm(randn({5}), Tensor(), Tensor(), Tensor(), Tensor(), true), ShapeError);
  std::string msg = thrown<Error>([] { batch_norm(randn({5}), Tensor(), Tensor(), Tensor(), Tensor(), true); });
  CHECK(contains(msg, "batch_norm"));
  CHECK(contains(msg, "[5]"));

  CHECK_THROWS_AS(batch_norm(x, w4, Tensor(), Tensor(), Tensor(), true), ShapeError);
  msg = thrown<Error>([&] { batch_norm(x, w4, Tensor(), Tensor(), Tensor(), true); });
  CHECK(contains(msg, "batch_norm"));
  CHECK(contains(msg, "weight"));
  CHECK(contains(msg, "[4]"));
  CHECK(contains(msg, "[4, 3, 5]"));
  CHECK_THROWS_AS(batch_norm(x, ones({3, 1}), Tensor(), Tensor(), Tensor(), true), ShapeError);
  CHECK_THROWS_AS(batch_norm(x, w3, w4, Tensor(), Tensor(), true), ShapeError);
  CHECK(contains(thrown<Error>([&] { batch_norm(x, w3, w4, Tensor(), Tensor(), true); }), "bias"));

  CHECK_THROWS_AS(batch_norm(x, w3, w3, zeros({4}), rv, false), ShapeError);
  msg = thrown<Error>([&] { batch_norm(x, w3, w3, rm, ones({2}), true); });
  CHECK(contains(msg, "batch_norm"));
  CHECK(contains(msg, "running_var"));
  CHECK(contains(msg, "[2]"));
  CHECK_THROWS_AS(batch_norm(x, w3, w3, rm, Tensor(), true), Error);
  CHECK(contains(thrown<Error>([&] { batch_norm(x, w3, w3, Tensor(), Tensor(), false); }), "eval mode"));
  CHECK_THROWS_AS(batch_norm(x, w3, w3, Tensor(), Tensor(), false), Error);
}

TEST_CASE("errors: batch_norm rejects integer tensors, one value per channel and bad eps") {
  Tensor x = randn({4, 3});
  CHECK_THROWS_AS(batch_norm(zeros({4, 3}, opts(DType::i32)), Tensor(), Tensor(), Tensor(), Tensor(), true),
                  TypeError);
  std::string msg = thrown<Error>([] {
    batch_norm(zeros({4, 3}, opts(DType::i32)), Tensor(), Tensor(), Tensor(), Tensor(), true);
  });
  CHECK(contains(msg, "batch_norm"));
  CHECK(contains(msg, "i32"));
  CHECK_THROWS_AS(batch_norm(x, zeros({3}, opts(DType::i64)), Tensor(), Tensor(), Tensor(), true), TypeError);
  CHECK_THROWS_AS(batch_norm(randn({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true), Error);
  CHECK(contains(thrown<Error>([] { batch_norm(randn({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); }),
                 "more than one value per channel"));
  // One sample is fine in eval mode.
  CHECK_NOTHROW(batch_norm(randn({1, 3}), Tensor(), Tensor(), zeros({3}), ones({3}), false));
  CHECK_THROWS_AS(batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, -1), Error);
}

TEST_CASE("errors: random factories check their bounds and dtypes") {
  CHECK_THROWS_AS(randint(5, 5, {3}), Error);
  CHECK_THROWS_AS(randint(7, 2, {3}), Error);
  std::string msg = thrown<Error>([] { randint(7, 2, {3}); });
  CHECK(contains(msg, "randint"));
  CHECK(contains(msg, "[7, 2)"));
  CHECK(contains(msg, "[3]"));
  CHECK_THROWS_AS(randint(0, 300, {3}, opts(DType::u8)), Error);
  CHECK(contains(thrown<Error>([] { randint(0, 300, {3}, opts(DType::u8)); }), "u8"));
  CHECK_THROWS_AS(randint(-1, 2, {3}, opts(DType::boolean)), Error);
  CHECK_THROWS_AS(randint(0, int64_t(1) << 40, {3}, opts(DType::i32)), Error);

  CHECK_THROWS_AS(rand({3}, opts(DType::i64)), TypeError);
  CHECK(contains(thrown<Error>([] { rand({3}, opts(DType::i64)); }), "rand"));
  CHECK_THROWS_AS(randn({3}, opts(DType::i32)), TypeError);
  CHECK(contains(thrown<Error>([] { randn({3}, opts(DType::i32)); }), "randn"));
  CHECK_THROWS_AS(uniform({3}, 2, 1), Error);
  CHECK(contains(thrown<Error>([] { uniform({3}, 2, 1); }), "uniform"));
  CHECK_THROWS_AS(uniform({3}, 0, INFINITY), Error);
  CHECK_THROWS_AS(normal({3}, 0, -1), Error);
  CHECK(contains(thrown<Error>([] { normal({3}, 0, -1); }), "normal"));
  CHECK_THROWS_AS(normal({3}, NAN, 1), Error);
}

}  // namespace mox::test
