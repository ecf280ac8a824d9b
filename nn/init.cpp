#include "nn/init.h"

#include <cmath>

#include "core/autograd/node.h"

namespace mox::nn {
namespace {

std::pair<double, double> fans(const Shape& s) {
  if (s.empty()) return {1, 1};
  if (s.size() == 1) return {double(s[0]), double(s[0])};
  double receptive = 1;
  for (size_t i = 2; i < s.size(); ++i) receptive *= double(s[i]);
  return {double(s[1]) * receptive, double(s[0]) * receptive};
}

// Normal values redrawn until they fall within two standard deviations (as Keras does).
Tensor truncated(const Shape& shape, double mean, double stddev) {
  std::vector<double> v = randn(shape, opts(DType::f64)).tolist();
  std::vector<size_t> bad;
  for (size_t i = 0; i < v.size(); ++i) if (std::fabs(v[i]) > 2) bad.push_back(i);
  while (!bad.empty()) {
    std::vector<double> fresh = randn({int64_t(bad.size())}, opts(DType::f64)).tolist();
    std::vector<size_t> still;
    for (size_t k = 0; k < bad.size(); ++k) {
      v[bad[k]] = fresh[k];
      if (std::fabs(fresh[k]) > 2) still.push_back(bad[k]);
    }
    bad.swap(still);
  }
  return add(mul(from_vector(v, shape), stddev), mean);
}

}  // namespace

Tensor initialize(const Initializer& in, const Shape& shape) {
  NoGradGuard no_grad;
  auto [fan_in, fan_out] = fans(shape);
  const std::string& n = in.name;
  if (n == "zeros") return zeros(shape);
  if (n == "ones") return ones(shape);
  if (n == "constant") return full(shape, in.a);
  if (n == "normal") return normal(shape, in.a, in.b);
  if (n == "truncated_normal") return truncated(shape, in.a, in.b);
  if (n == "uniform") return uniform(shape, in.a, in.b);
  if (n == "glorot_uniform") {
    double limit = std::sqrt(6.0 / (fan_in + fan_out));
    return uniform(shape, -limit, limit);
  }
  if (n == "glorot_normal") return truncated(shape, 0, std::sqrt(2.0 / (fan_in + fan_out)) / .87962566103423978);
  if (n == "he_uniform") {
    double limit = std::sqrt(6.0 / fan_in);
    return uniform(shape, -limit, limit);
  }
  if (n == "he_normal") return truncated(shape, 0, std::sqrt(2.0 / fan_in) / .87962566103423978);
  throw Error("initialize: unknown initializer '" + n +
              "' (zeros, ones, constant, normal, truncated_normal, uniform, glorot_uniform, "
              "glorot_normal, he_uniform, he_normal)");
}

}  // namespace mox::nn
