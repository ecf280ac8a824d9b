// CPU unscale-and-check for the loss scaler (kernels/amp.h): a flat parallel loop per dtype
// that scales in place and ORs a not-finite flag per thread (the 16-bit types widen to f32 for
// the product and round back once). Runs once per parameter per step; no bench of its own (it
// is a small part of the training step bench_* programs time).
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/amp.h"
#include "kernels/cpu/loop.h"

namespace mox::cpu {
namespace {

template <class T, class C>
bool unscale_typed(T* g, int64_t n, C factor) {
  bool bad = false;
  parallel_range(n, [&](int64_t b, int64_t e) {
    bool local = false;
    for (int64_t i = b; i < e; ++i) {
      g[i] = T(C(float_or_self(g[i])) * factor);
      local |= !std::isfinite(C(float_or_self(g[i])));  // as stored
    }
    if (local) {
#pragma omp atomic write
      bad = true;
    }
  });
  return !bad;
}

bool unscale(DType t, void* g, int64_t n, double factor) {
  switch (t) {
    case DType::f32: return unscale_typed(static_cast<float*>(g), n, float(factor));
    case DType::f64: return unscale_typed(static_cast<double*>(g), n, factor);
    case DType::f16: return unscale_typed(static_cast<Half*>(g), n, float(factor));
    case DType::bf16: return unscale_typed(static_cast<BFloat16*>(g), n, float(factor));
    default: throw std::invalid_argument(std::string("unscale: dtype ") + dtype_name(t) + " is not supported");
  }
}

}  // namespace

MOX_REGISTER_KERNEL(unscale_stub, CPU, unscale);

}  // namespace mox::cpu
