// Initializers by Keras name: zeros, ones, constant, normal, truncated_normal, uniform,
// glorot_uniform / glorot_normal (Xavier), he_uniform / he_normal (Kaiming). Fans follow
// Keras: a [out, in] matrix has fan_in = in; a conv weight [O, I, kh, kw] has
// fan_in = I*kh*kw and fan_out = O*kh*kw.
#pragma once
#include <string>

#include "core/ops.h"

namespace mox::nn {

struct Initializer {
  std::string name = "glorot_uniform";
  double a = 0;  // constant: value; normal/truncated_normal: mean; uniform: low
  double b = 0;  // normal/truncated_normal: stddev; uniform: high
};

namespace init {
inline Initializer zeros() { return {"zeros"}; }
inline Initializer ones() { return {"ones"}; }
inline Initializer constant(double v) { return {"constant", v}; }
inline Initializer normal(double mean = 0, double stddev = 0.05) { return {"normal", mean, stddev}; }
inline Initializer truncated_normal(double mean = 0, double stddev = 0.05) {
  return {"truncated_normal", mean, stddev};
}
inline Initializer uniform(double lo = -0.05, double hi = 0.05) { return {"uniform", lo, hi}; }
inline Initializer glorot_uniform() { return {"glorot_uniform"}; }
inline Initializer glorot_normal() { return {"glorot_normal"}; }
inline Initializer he_uniform() { return {"he_uniform"}; }
inline Initializer he_normal() { return {"he_normal"}; }
}  // namespace init

// A new f32 tensor of shape drawn from the initializer (from the seeded generator).
Tensor initialize(const Initializer& init, const Shape& shape);

}  // namespace mox::nn
