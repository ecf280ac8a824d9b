// Random factories: rand, randn, uniform, normal, randint, and the global generator state they
// and dropout draw from. Values come from Philox 4x32-10 (kernels/common/philox.h), so a seed
// gives the same tensors on every run and for every thread count. f16/bf16 results are drawn
// in f32 and rounded; integer and bool randint results come from the integer kernels.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "core/ops/common.h"
#include "core/ops/random.h"

namespace mox {
namespace {

struct Generator {
  std::mutex mu;
  uint64_t seed = 67280421310721ull;  // PyTorch's default seed
  uint64_t offset = 0;
};

Generator& generator() {
  static Generator g;
  return g;
}

void check_random_dtype(const char* op, DType t) {
  MOX_CHECK_T(TypeError, is_floating(t), op, "expects a floating-point dtype, got ", dtype_name(t));
}

// The largest f16 (or bf16) value below hi, as a double.
double largest_below(double hi, DType t) {
  auto encode = [t](float f) -> uint16_t {
    return t == DType::f16 ? Half::from_float(f) : BFloat16::from_float(f);
  };
  auto decode = [t](uint16_t b) -> double {
    return t == DType::f16 ? Half::to_float(b) : BFloat16::to_float(b);
  };
  uint16_t b = encode(float(hi));
  while (decode(b) >= hi) {  // one step toward -inf
    if (b == 0x0000u) b = 0x8001u;
    else if (b & 0x8000u) ++b;
    else --b;
  }
  return decode(b);
}

Tensor finish(Tensor out, const TensorOptions& o) {
  if (out.dtype() != o.dtype) {
    NoGradGuard no_grad;
    out = out.to(o.dtype);
  }
  if (o.requires_grad) out.requires_grad_(true);
  return out;
}

}  // namespace

PhiloxArgs reserve_philox(int64_t counters) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mu);
  PhiloxArgs a{g.seed, g.offset};
  g.offset += uint64_t(counters);
  return a;
}

PhiloxArgs philox_state() {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mu);
  return {g.seed, g.offset};
}

void manual_seed(uint64_t seed) {
  Generator& g = generator();
  std::lock_guard<std::mutex> lock(g.mu);
  g.seed = seed;
  g.offset = 0;
}

Tensor uniform(const Shape& shape, double lo, double hi, TensorOptions o) {
  check_random_dtype("uniform", o.dtype);
  MOX_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "uniform",
            "needs finite bounds with lo <= hi, got [", lo, ", ", hi, ") for shape ",
            shape_str(shape), " ", dtype_name(o.dtype));
  DType ct = compute_type(o.dtype);
  Tensor out = empty(shape, opts(ct, o.device));
  int64_t n = out.numel();
  if (n > 0) {
    // Keep rounding to f16/bf16 below hi: draw below the largest such value under hi.
    double top = hi;
    if (ct != o.dtype && lo < hi) top = std::max(lo, largest_below(hi, o.dtype));
    auto fill = kernel(uniform_fill_stub, o.device, "uniform");
    fill(ct, out.raw_data(), n, lo, top, reserve_philox(uniform_counters(ct, n)));
  }
  return finish(out, o);
}

Tensor rand(const Shape& shape, TensorOptions o) {
  check_random_dtype("rand", o.dtype);
  return uniform(shape, 0, 1, o);
}

Tensor normal(const Shape& shape, double mean, double stddev, TensorOptions o) {
  check_random_dtype("normal", o.dtype);
  MOX_CHECK(std::isfinite(mean) && std::isfinite(stddev) && stddev >= 0, "normal",
            "needs a finite mean and a finite stddev >= 0, got mean ", mean, ", stddev ", stddev,
            " for shape ", shape_str(shape), " ", dtype_name(o.dtype));
  DType ct = compute_type(o.dtype);
  Tensor out = empty(shape, opts(ct, o.device));
  int64_t n = out.numel();
  if (n > 0) {
    auto fill = kernel(normal_fill_stub, o.device, "normal");
    fill(ct, out.raw_data(), n, mean, stddev, reserve_philox(normal_counters(ct, n)));
  }
  return finish(out, o);
}

Tensor randn(const Shape& shape, TensorOptions o) {
  check_random_dtype("randn", o.dtype);
  return normal(shape, 0, 1, o);
}

Tensor randint(int64_t lo, int64_t hi, const Shape& shape, TensorOptions o) {
  MOX_CHECK(lo < hi, "randint", "needs lo < hi, got [", lo, ", ", hi, ") for shape ",
            shape_str(shape), " ", dtype_name(o.dtype));
  // The values lo and hi - 1 must be exact in the dtype.
  int64_t min_ok = INT64_MIN, max_ok = INT64_MAX;
  switch (o.dtype) {
    case DType::boolean: min_ok = 0; max_ok = 1; break;
    case DType::u8: min_ok = 0; max_ok = 255; break;
    case DType::i32: min_ok = INT32_MIN; max_ok = INT32_MAX; break;
    case DType::i64: break;
    case DType::f16: min_ok = -(int64_t(1) << 11); max_ok = int64_t(1) << 11; break;
    case DType::bf16: min_ok = -(int64_t(1) << 8); max_ok = int64_t(1) << 8; break;
    case DType::f32: min_ok = -(int64_t(1) << 24); max_ok = int64_t(1) << 24; break;
    case DType::f64: min_ok = -(int64_t(1) << 53); max_ok = int64_t(1) << 53; break;
  }
  MOX_CHECK(lo >= min_ok && hi - 1 <= max_ok, "randint", "range [", lo, ", ", hi,
            ") does not fit dtype ", dtype_name(o.dtype), " (values from ", min_ok, " to ", max_ok,
            ") for shape ", shape_str(shape));
  MOX_CHECK_T(TypeError, !o.requires_grad || is_floating(o.dtype), "randint",
              "only floating-point tensors can require grad, got dtype ", dtype_name(o.dtype));
  DType ct = compute_type(o.dtype);
  Tensor out = empty(shape, opts(ct, o.device));
  int64_t n = out.numel();
  if (n > 0) {
    auto fill = kernel(randint_fill_stub, o.device, "randint");
    fill(ct, out.raw_data(), n, lo, hi, reserve_philox(randint_counters(n)));
  }
  return finish(out, o);
}

}  // namespace mox
