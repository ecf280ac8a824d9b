// Drives a Loop on the CPU: splits it into rows along the innermost dimension, hands rows to
// OpenMP threads, and calls body(ptrs, inner_strides, n) for each row, where ptrs[k] is
// operand k's address at the row start (in bytes).
#pragma once
#include <omp.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/dispatch.h"

namespace mox::cpu {

// Throws std::invalid_argument "<what>: dtype <t> is not supported", naming the supported
// dtypes in parentheses when given.
[[noreturn]] inline void unsupported(const char* what, DType t, const char* supported = nullptr) {
  std::string msg = std::string(what) + ": dtype " + dtype_name(t) + " is not supported";
  if (supported) msg += std::string(" (") + supported + ")";
  throw std::invalid_argument(msg);
}

// Below this many elements a loop runs on the calling thread.
constexpr int64_t kParallelGrain = 32768;

template <int N, class Body>
void for_each_row(const Loop& loop, char* const (&base)[N], const int64_t (&elem_size)[N], Body body) {
  if (loop.numel == 0) return;
  int nd = loop.ndim;
  int64_t inner = nd ? loop.sizes[nd - 1] : 1;
  int64_t inner_stride[N];
  for (int k = 0; k < N; ++k) inner_stride[k] = nd ? loop.strides[k][nd - 1] * elem_size[k] : 0;
  int64_t rows = loop.numel / inner;
#pragma omp parallel for schedule(static) if (loop.numel > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    char* p[N];
    for (int k = 0; k < N; ++k) p[k] = base[k];
    int64_t rest = r;
    for (int d = nd - 2; d >= 0; --d) {
      int64_t idx = rest % loop.sizes[d];
      rest /= loop.sizes[d];
      for (int k = 0; k < N; ++k) p[k] += idx * loop.strides[k][d] * elem_size[k];
    }
    body(p, inner_stride, inner);
  }
}

// Flat loop for dense operands: body(begin, end) over element ranges.
template <class Body>
void parallel_range(int64_t n, Body body) {
  if (n <= kParallelGrain) {
    body(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    int64_t chunk = (n + nt - 1) / nt;
    int64_t b = t * chunk, e = b + chunk < n ? b + chunk : n;
    if (b < e) body(b, e);
  }
}

}  // namespace mox::cpu
