// The FMA-peak micro-kernel: 16 independent 16-lane accumulators per thread, far more than
// FMA latency x FMA ports (4 cycles x 2 ports = 8 in flight), so the loop is bound by FMA
// throughput alone. Compiled for AVX-512 through a target attribute (the rest of the bench
// keeps the project's baseline flags) and called only after a CPU check.
#include "bench/fma_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>

namespace mox::bench {
namespace {

constexpr int kAcc = 16;
constexpr int kLanes = 16;

// Runs `iters` rounds of kAcc FMAs and returns a value depending on every accumulator, so
// none of the work can be dropped.
__attribute__((target("avx512f"))) float fma_loop(long iters, float seed) {
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_ps(seed + float(i));
  // a * acc + b with a just under 1 keeps the values bounded (no inf or denormals).
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; ++i) s = _mm512_add_ps(s, acc[i]);
  float lanes[kLanes];
  _mm512_storeu_ps(lanes, s);
  float r = 0;
  for (float v : lanes) r += v;
  return r;
}

// GFLOP/s of one parallel run of `iters` rounds on each of `threads` threads.
double run_once(int threads, long iters) {
  volatile float sink = 0;
  auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
  {
    float r = fma_loop(iters, float(omp_get_thread_num()));
#pragma omp critical
    sink = sink + r;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * kAcc * kLanes * double(iters) * threads / s * 1e-9;
}

}  // namespace

std::optional<double> fma_peak_gflops(int threads, double seconds) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) return std::nullopt;
  // Size the loop from a short first run, so each timed run lasts about `seconds`.
  long iters = 1 << 16;
  double probe = run_once(threads, iters);
  iters = std::max(iters, long(probe * 1e9 * seconds / (2.0 * kAcc * kLanes * threads)));
  double best = 0;
  for (int i = 0; i < 3; ++i) best = std::max(best, run_once(threads, iters));
  return best;
}

}  // namespace mox::bench
