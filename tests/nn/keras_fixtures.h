// Shared fixtures of the Keras suites: three well-separated Gaussian blobs in the plane
// (classes interleaved, so any batch holds all three) and small MLPs over them.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/keras.h"
#include "nn/layers.h"
#include "nn/sequential.h"

namespace mox::test {

struct Blobs {
  Tensor x;  // [n, 2] f32
  Tensor y;  // [n] i64 class indices 0..2
};

inline Blobs make_blobs(int64_t n, uint64_t seed, double spread = 0.6) {
  manual_seed(seed);
  const double centers[3][2] = {{-3, 0}, {3, 0}, {0, 4}};
  std::vector<double> c(static_cast<size_t>(n) * 2), labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    labels[size_t(i)] = double(i % 3);
    c[size_t(2 * i)] = centers[i % 3][0];
    c[size_t(2 * i + 1)] = centers[i % 3][1];
  }
  Blobs b;
  b.x = add(from_vector(c, {n, 2}), mul(randn({n, 2}), spread));
  b.y = from_vector(labels, {n}, opts(DType::i64));
  return b;
}

// Dense(16, relu) [-> Dropout(dropout)] -> Dense(3, last_activation); parameters from seed.
inline std::shared_ptr<nn::Sequential> make_mlp(uint64_t seed, const std::string& last_activation = "softmax",
                                                double dropout = 0) {
  manual_seed(seed);
  auto net = std::make_shared<nn::Sequential>();
  net->emplace<nn::Linear>(2, 16, nn::LinearOptions{.activation = "relu"});
  if (dropout > 0) net->emplace<nn::Dropout>(dropout);
  net->emplace<nn::Linear>(16, 3, nn::LinearOptions{.activation = last_activation});
  return net;
}

inline nn::OptimizerFn adam(double lr = 0.01) { return nn::get_optimizer_fn("adam", lr); }

}  // namespace mox::test
