// CPU reductions over the middle axis of [outer, K, inner]: sums (f32 accumulates in f64),
// max/min with first-occurrence indices. Threads split the outer*inner outputs; a single large
// sum (outer*inner == 1) is split along K instead.
#include <omp.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/loop.h"
#include "kernels/reduce.h"

namespace mox::cpu {
namespace {

template <class T> struct Acc { using type = T; };
template <> struct Acc<float> { using type = double; };
template <> struct Acc<int32_t> { using type = int64_t; };
template <> struct Acc<uint8_t> { using type = int64_t; };

// Sum of n consecutive elements in kLanes interleaved partial sums: no chain of dependent adds,
// and the compiler vectorizes the lanes (one running sum cannot be reordered).
constexpr int kLanes = 16;

template <class T>
typename Acc<T>::type sum_run(const T* p, int64_t n) {
  using A = typename Acc<T>::type;
  A part[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int j = 0; j < kLanes; ++j) part[j] += A(p[k + j]);
  A s = 0;
  for (; k < n; ++k) s += A(p[k]);
  for (int j = 0; j < kLanes; ++j) s += part[j];
  return s;
}

template <class T>
void reduce_sum(T* out, const T* in, int64_t outer, int64_t K, int64_t inner) {
  using A = typename Acc<T>::type;
  if (outer * inner == 1) {  // one output: split K across threads
    int nt = K > kParallelGrain ? omp_get_max_threads() : 1;
    std::vector<A> part(size_t(nt), A(0));
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), n = omp_get_num_threads();
      int64_t chunk = (K + n - 1) / n, b = t * chunk, e = std::min(K, b + chunk);
      if (b < e) part[size_t(t)] = sum_run(in + b, e - b);
    }
    A s = 0;
    for (A v : part) s += v;
    out[0] = T(s);
    return;
  }
  if (inner == 1) {
#pragma omp parallel for if (outer * K > kParallelGrain)
    for (int64_t o = 0; o < outer; ++o) out[o] = T(sum_run(in + o * K, K));
    return;
  }
  // Reduce across rows of an [K, inner] slab: accumulate whole rows, which vectorizes.
#pragma omp parallel for if (outer * K * inner > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    std::vector<A> acc(size_t(inner), A(0));
    const T* slab = in + o * K * inner;
    for (int64_t k = 0; k < K; ++k) {
      const T* row = slab + k * inner;
      for (int64_t i = 0; i < inner; ++i) acc[size_t(i)] += A(row[i]);
    }
    for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = T(acc[size_t(i)]);
  }
}

template <class T>
void reduce_extreme(bool is_max, T* out, int64_t* idx, const T* in, int64_t outer, int64_t K,
                    int64_t inner) {
#pragma omp parallel for if (outer * K * inner > kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = in + o * K * inner + i;
      T best = p[0];
      int64_t at = 0;
      for (int64_t k = 1; k < K; ++k) {
        T v = p[k * inner];
        bool better = is_max ? v > best : v < best;
        if (better || (v != v && best == best)) {  // NaN wins, like PyTorch
          best = v;
          at = k;
        }
      }
      out[o * inner + i] = best;
      if (idx) idx[o * inner + i] = at;
    }
  }
}

void reduce(ReduceOp op, DType t, void* out, int64_t* idx, const void* in, int64_t outer,
            int64_t K, int64_t inner) {
  MOX_DISPATCH_COMPUTE(t, T, throw std::invalid_argument(std::string("reduce: dtype ") + dtype_name(t)), {
    if (op == ReduceOp::sum)
      reduce_sum(static_cast<T*>(out), static_cast<const T*>(in), outer, K, inner);
    else
      reduce_extreme(op == ReduceOp::max, static_cast<T*>(out), idx, static_cast<const T*>(in),
                     outer, K, inner);
  });
}

}  // namespace

MOX_REGISTER_KERNEL(reduce_stub, CPU, reduce);

}  // namespace mox::cpu
