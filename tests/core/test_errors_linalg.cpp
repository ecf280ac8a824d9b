// Bad input to the linear-algebra, convolution and pooling ops: each call throws mox::Error
// (ShapeError / TypeError where named) whose message names the op, the shapes and the dtypes.
#include <initializer_list>
#include <string>

#include "tests/support/check.h"

namespace mox::test {
namespace {

Tensor t(const Shape& s, DType dt = DType::f32) { return zeros(s, opts(dt)); }

Conv2dOptions groups(int64_t g) {
  Conv2dOptions o;
  o.groups = g;
  return o;
}

Pool2dOptions pool(int64_t k, int64_t pad = 0) {
  Pool2dOptions o;
  o.kernel[0] = o.kernel[1] = k;
  o.padding[0] = o.padding[1] = pad;
  return o;
}

}  // namespace

TEST_CASE("errors: matmul with mismatched inner dims names both shapes and dtypes") {
  std::string msg = thrown<ShapeError>([] { matmul(t({2, 3}), t({4, 5})); });
  mentions(msg, {"matmul", "[2, 3]", "[4, 5]", "f32"});
  mentions(thrown<ShapeError>([] { matmul(t({3}), t({4})); }), {"matmul", "[3]", "[4]"});
  mentions(thrown<ShapeError>([] { matmul(t({2, 2, 3}), t({3, 3, 1})); }),
           {"matmul", "[2]", "[3]"});  // batch dims do not broadcast
  mentions(thrown<ShapeError>([] { matmul(t({}), t({3})); }), {"matmul", "[]"});
  mentions(thrown<TypeError>([] { matmul(t({2, 2}, DType::i64), t({2, 2})); }), {"matmul", "i64"});
}

TEST_CASE("errors: linear and addmm check their operands") {
  mentions(thrown<ShapeError>([] { linear(t({2, 3}), t({4, 5})); }), {"linear", "[2, 3]", "[4, 5]"});
  mentions(thrown<ShapeError>([] { linear(t({2, 3}), t({4, 3, 1})); }), {"linear", "[4, 3, 1]"});
  mentions(thrown<ShapeError>([] { linear(t({2, 3}), t({4, 3}), t({5})); }),
           {"linear", "bias", "[5]"});
  mentions(thrown<ShapeError>([] { addmm(t({3, 5}), t({3, 4}), t({5, 5})); }),
           {"addmm", "[3, 4]", "[5, 5]"});
  mentions(thrown<ShapeError>([] { addmm(t({2, 5}), t({3, 4}), t({4, 5})); }),
           {"addmm", "[2, 5]", "[3, 5]"});
  mentions(thrown<ShapeError>([] { addmm(t({3}), t({3, 4, 1}), t({4, 5})); }), {"addmm", "2-d"});
}

TEST_CASE("errors: conv2d rejects channel, group and weight-rank mismatches") {
  std::string msg = thrown<ShapeError>([] { conv2d(t({1, 3, 5, 5}), t({4, 2, 3, 3})); });
  mentions(msg, {"conv2d", "[1, 3, 5, 5]", "[4, 2, 3, 3]", "f32", "channels"});
  mentions(thrown<ShapeError>([] { conv2d(t({1, 4, 5, 5}), t({3, 2, 3, 3}), Tensor(), groups(2)); }),
           {"conv2d", "groups 2", "[3, 2, 3, 3]"});  // 3 outputs do not split into 2 groups
  mentions(thrown<ShapeError>([] { conv2d(t({1, 3, 5, 5}), t({4, 3, 3}), Tensor()); }),
           {"conv2d", "weight must be 4-d", "[4, 3, 3]"});
  mentions(thrown<ShapeError>([] { conv2d(t({3, 5}), t({4, 3, 3, 3})); }), {"conv2d", "[3, 5]"});
  mentions(thrown<ShapeError>([] { conv2d(t({1, 3, 2, 2}), t({4, 3, 3, 3})); }),
           {"conv2d", "larger than the padded input", "[1, 3, 2, 2]"});
  mentions(thrown<ShapeError>([] { conv2d(t({1, 3, 5, 5}), t({4, 3, 3, 3}), t({3})); }),
           {"conv2d", "bias", "[3]"});
  mentions(thrown<Error>([] { conv2d(t({1, 3, 5, 5}), t({3, 3, 3, 3}), Tensor(), groups(0)); }),
           {"conv2d", "groups"});
  mentions(thrown<TypeError>([] { conv2d(t({1, 3, 5, 5}, DType::i32), t({3, 3, 3, 3})); }),
           {"conv2d", "i32"});
}

TEST_CASE("errors: pooling rejects kernels larger than the padded input and bad options") {
  mentions(thrown<ShapeError>([] { max_pool2d(t({1, 1, 2, 2}), pool(3)); }),
           {"max_pool2d", "larger than the padded input", "[1, 1, 2, 2]", "f32"});
  mentions(thrown<ShapeError>([] { avg_pool2d(t({1, 1, 2, 2}), pool(5, 1)); }),
           {"avg_pool2d", "larger than the padded input"});
  mentions(thrown<Error>([] { avg_pool2d(t({1, 1, 8, 8}), pool(2, 2)); }),
           {"avg_pool2d", "half the kernel"});
  mentions(thrown<Error>([] { max_pool2d(t({1, 1, 8, 8}), pool(0)); }), {"max_pool2d", "positive"});
  mentions(thrown<ShapeError>([] { max_pool2d(t({8, 8}), pool(2)); }), {"max_pool2d", "[8, 8]"});
  mentions(thrown<ShapeError>([] { adaptive_avg_pool2d(t({1, 2, 4, 4}), 0, 2); }),
           {"adaptive_avg_pool2d", "[1, 2, 4, 4]"});
  mentions(thrown<ShapeError>([] { global_avg_pool2d(t({2, 4, 4})); }),
           {"global_avg_pool2d", "[2, 4, 4]"});
  mentions(thrown<TypeError>([] { avg_pool2d(t({1, 1, 4, 4}, DType::i64), pool(2)); }),
           {"avg_pool2d", "i64"});
}

}  // namespace mox::test
