// Random kernel families: uniform, normal, randint fills and the scaled Bernoulli mask that
// dropout multiplies by. Each draws from Philox 4x32-10 (kernels/common/philox.h) with
// element i taken from counter offset + i / k (k values per counter: philox::k*PerCounter), so
// the output depends only on (seed, offset, i), never on the thread count.
#pragma once
#include "kernels/common/philox.h"
#include "kernels/dispatch.h"

namespace mox {

// The generator position a kernel starts from: key and first counter.
struct PhiloxArgs {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

// out[i] = lo + (hi - lo) * U[0, 1), kept below hi; dtype f32 or f64.
using UniformFillFn = void(DType, void* out, int64_t n, double lo, double hi, PhiloxArgs);
// out[i] = mean + stddev * N(0, 1) (Box-Muller); dtype f32 or f64.
using NormalFillFn = void(DType, void* out, int64_t n, double mean, double stddev, PhiloxArgs);
// out[i] uniform on the integers [lo, hi) (hi > lo); dtype f32, f64, i32, i64 or u8.
using RandintFillFn = void(DType, void* out, int64_t n, int64_t lo, int64_t hi, PhiloxArgs);
// out[i] = scale where U[0, 1) >= p (kept, probability 1 - p), else 0; dtype f32 or f64. The
// uniforms are f32 draws for every dtype, so one seed gives one mask whatever the dtype.
using BernoulliMaskFn = void(DType, void* out, int64_t n, double p, double scale, PhiloxArgs);

// Counters one fill of n values of dtype uses (the generator's offset advances by this much).
inline int64_t uniform_counters(DType t, int64_t n) {
  return philox::counters_for(
      n, t == DType::f64 ? philox::kDoublesPerCounter : philox::kFloatsPerCounter);
}
inline int64_t normal_counters(DType t, int64_t n) { return uniform_counters(t, n); }
inline int64_t randint_counters(int64_t n) { return philox::counters_for(n, philox::kIntsPerCounter); }
inline int64_t bernoulli_counters(int64_t n) {
  return philox::counters_for(n, philox::kFloatsPerCounter);
}

MOX_STUB(uniform_fill_stub, UniformFillFn);
MOX_STUB(normal_fill_stub, NormalFillFn);
MOX_STUB(randint_fill_stub, RandintFillFn);
MOX_STUB(bernoulli_mask_stub, BernoulliMaskFn);

}  // namespace mox
