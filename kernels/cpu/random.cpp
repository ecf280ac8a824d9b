// CPU random fills: uniform, normal (Box-Muller), randint and dropout's scaled Bernoulli mask,
// all from Philox 4x32-10. Threads split the counters, and counter j writes elements
// [j * k, j * k + k), so any thread count (or the CUDA kernels, which share philox.h) gives
// bit-identical tensors. Exercised by tests/core/test_random.cpp.
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/loop.h"
#include "kernels/random.h"

namespace mox::cpu {
namespace {

// The counters [b, e) as one simd loop, compiled for the baseline ISA and for AVX-512 (16 lanes
// of Philox's 32x32-bit products instead of SSE2's 4).
#define MOX_COUNTER_RANGE(name, isa)                                                     \
  template <int64_t k, class Body>                                                       \
  [[gnu::target(isa)]] void name(int64_t b, int64_t e, PhiloxArgs g, Body body) {        \
    _Pragma("omp simd") for (int64_t j = b; j < e; ++j)                                  \
        body(philox::draw(g.seed, g.offset + uint64_t(j)), j * k, k);                    \
  }
MOX_COUNTER_RANGE(counter_range_plain, "default")
MOX_COUNTER_RANGE(counter_range_avx512, "avx512f")
#undef MOX_COUNTER_RANGE

// Runs body(w, first, count) for every counter j with its four words, the first element it
// fills (j * k) and how many (k, or fewer for the last counter). Threads take contiguous ranges
// of counters; within a range the calls are a simd loop (the full-counter body inlines with
// count == k and vectorizes).
template <int64_t k, class Body>
void for_each_counter(int64_t n, PhiloxArgs g, Body body) {
  int64_t full = n / k;
  const bool avx512 = __builtin_cpu_supports("avx512f");
#pragma omp parallel if (n > kParallelGrain)
  {
    int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (full + nt - 1) / nt;
    int64_t b = t * chunk, e = b + chunk < full ? b + chunk : full;
    (avx512 ? counter_range_avx512<k, Body> : counter_range_plain<k, Body>)(b, e, g, body);
  }
  if (n % k) body(philox::draw(g.seed, g.offset + uint64_t(full)), full * k, n % k);
}

// Maps u in [0, 1) to lo + (hi - lo) * u in T, kept below hi when rounding would reach it.
template <class T>
struct UniformMap {
  T lo, range, top;
  UniformMap(double l, double h) : lo(T(l)), range(T(h - l)), top(T(h)) {
    if (l < h) {
      if (!(double(top) < h)) top = std::nextafter(top, lo);  // the largest T below hi
      if (top < lo) top = lo;
    }
  }
  T operator()(T u) const {
    T v = lo + range * u;
    return v < top ? v : top;
  }
};

void uniform_fill(DType t, void* out, int64_t n, double lo, double hi, PhiloxArgs g) {
  if (t == DType::f32) {
    float* o = static_cast<float*>(out);
    UniformMap<float> map(lo, hi);
    for_each_counter<philox::kFloatsPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
      for (int64_t l = 0; l < count; ++l) o[first + l] = map(philox::to_float01(w.v[l]));
    });
  } else if (t == DType::f64) {
    double* o = static_cast<double*>(out);
    UniformMap<double> map(lo, hi);
    for_each_counter<philox::kDoublesPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
      for (int64_t l = 0; l < count; ++l)
        o[first + l] = map(philox::to_double01(w.v[2 * l], w.v[2 * l + 1]));
    });
  } else {
    unsupported("uniform_fill", t);
  }
}

void normal_fill(DType t, void* out, int64_t n, double mean, double stddev, PhiloxArgs g) {
  if (t == DType::f32) {
    float* o = static_cast<float*>(out);
    float m = float(mean), s = float(stddev);
    for_each_counter<philox::kFloatsPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
      float z[4];
      philox::normal4(w, z);
      for (int64_t l = 0; l < count; ++l) o[first + l] = m + s * z[l];
    });
  } else if (t == DType::f64) {
    double* o = static_cast<double*>(out);
    for_each_counter<philox::kDoublesPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
      double z[2];
      philox::normal2(w, z);
      for (int64_t l = 0; l < count; ++l) o[first + l] = mean + stddev * z[l];
    });
  } else {
    unsupported("normal_fill", t);
  }
}

template <class T>
void randint_typed(T* o, int64_t n, int64_t lo, int64_t hi, PhiloxArgs g) {
  uint64_t range = uint64_t(hi) - uint64_t(lo);  // hi > lo, so this never wraps to 0
  for_each_counter<philox::kIntsPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
    for (int64_t l = 0; l < count; ++l) {
      uint64_t r = philox::to_u64(w.v[2 * l], w.v[2 * l + 1]) % range;
      o[first + l] = T(int64_t(uint64_t(lo) + r));
    }
  });
}

void randint_fill(DType t, void* out, int64_t n, int64_t lo, int64_t hi, PhiloxArgs g) {
  MOX_DISPATCH_COMPUTE(t, T, unsupported("randint_fill", t),
                       randint_typed(static_cast<T*>(out), n, lo, hi, g));
}

template <class T>
void bernoulli_typed(T* o, int64_t n, double p, double scale, PhiloxArgs g) {
  T keep = T(scale);
  uint32_t threshold = philox::bernoulli_threshold(p);
  for_each_counter<philox::kFloatsPerCounter>(n, g, [=](const philox::Words& w, int64_t first, int64_t count) {
    for (int64_t l = 0; l < count; ++l) o[first + l] = philox::kept(w.v[l], threshold) ? keep : T(0);
  });
}

void bernoulli_mask(DType t, void* out, int64_t n, double p, double scale, PhiloxArgs g) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("bernoulli_mask", t),
                     bernoulli_typed(static_cast<T*>(out), n, p, scale, g));
}

}  // namespace

MOX_REGISTER_KERNEL(uniform_fill_stub, CPU, uniform_fill);
MOX_REGISTER_KERNEL(normal_fill_stub, CPU, normal_fill);
MOX_REGISTER_KERNEL(randint_fill_stub, CPU, randint_fill);
MOX_REGISTER_KERNEL(bernoulli_mask_stub, CPU, bernoulli_mask);

}  // namespace mox::cpu
