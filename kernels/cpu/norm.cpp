// CPU batch norm on x viewed as [n, c, s]: per-channel mean and biased variance (two passes,
// f64 accumulation), the normalize-scale-shift map, and the backward pass (training formula
//   dx = w / sigma * (g - mean(g) - xhat * mean(g * xhat)),  sigma = sqrt(var + eps),
// or, in eval mode, dx = g * w / sigma; dweight = sum(g * xhat), dbias = sum(g)).
// Sums are formed per block of rows in parallel (blocks fixed by the dims), then added in block
// order, so results do not depend on the thread count. Tested by tests/core/ops_norm.cpp (PyTorch
// reference cases) and tests/core/test_random.cpp (hand-computed values, thread counts).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/loop.h"
#include "kernels/norm.h"

namespace mox::cpu {
namespace {

// Per-channel sums of f over the elements of x, two at once: out_a[c] = sum f(idx, c).a and
// out_b[c] = sum f(idx, c).b (either out may be null). The work is cut into blocks of rows
// chosen from the dims alone; blocks sum in parallel and their partials are added in block
// order, so the result is the same for any thread count.
struct Sum2 {
  double a, b;
};
constexpr int64_t kBlockElems = 8192;

template <class F>
void channel_sums(BatchNormDims d, F f, double* out_a, double* out_b) {
  int64_t row_elems = d.s == 1 ? d.c : d.s;  // elements one block row covers per unit
  int64_t rows = std::max<int64_t>(1, std::min<int64_t>(d.n, kBlockElems / std::max<int64_t>(row_elems, 1)));
  int64_t blocks = (d.n + rows - 1) / rows;
  std::vector<double> pa(size_t(blocks * d.c), 0.0), pb(size_t(blocks * d.c), 0.0);
  bool parallel = d.n * d.c * d.s > kParallelGrain;
  if (d.s == 1) {
    // [n, c] rows: a block accumulates whole rows, vectorized across channels.
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      double* qa = pa.data() + blk * d.c;
      double* qb = pb.data() + blk * d.c;
      int64_t end = std::min(d.n, (blk + 1) * rows);
      for (int64_t n = blk * rows; n < end; ++n) {
#pragma omp simd
        for (int64_t c = 0; c < d.c; ++c) {
          Sum2 v = f(n * d.c + c, c);
          qa[c] += v.a;
          qb[c] += v.b;
        }
      }
    }
  } else {
    // One unit per (block, channel): the block's rows of that channel, s contiguous each.
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t u = 0; u < blocks * d.c; ++u) {
      int64_t blk = u / d.c, c = u % d.c, end = std::min(d.n, (blk + 1) * rows);
      double a = 0, b = 0;
      for (int64_t n = blk * rows; n < end; ++n) {
        int64_t base = (n * d.c + c) * d.s;
#pragma omp simd reduction(+ : a, b)
        for (int64_t i = 0; i < d.s; ++i) {
          Sum2 v = f(base + i, c);
          a += v.a;
          b += v.b;
        }
      }
      pa[size_t(u)] = a;
      pb[size_t(u)] = b;
    }
  }
  for (int64_t c = 0; c < d.c; ++c) {
    double a = 0, b = 0;
    for (int64_t blk = 0; blk < blocks; ++blk) {
      a += pa[size_t(blk * d.c + c)];
      b += pb[size_t(blk * d.c + c)];
    }
    if (out_a) out_a[c] = a;
    if (out_b) out_b[c] = b;
  }
}

// Calls f(idx, c) for every element (f writes the output), in parallel over rows or slabs.
template <class F>
void channel_map(BatchNormDims d, F f) {
  bool parallel = d.n * d.c * d.s > kParallelGrain;
  if (d.s == 1) {
#pragma omp parallel for schedule(static) if (parallel)
    for (int64_t n = 0; n < d.n; ++n) {
#pragma omp simd
      for (int64_t c = 0; c < d.c; ++c) f(n * d.c + c, c);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t k = 0; k < d.n * d.c; ++k) {
    int64_t c = k % d.c, base = k * d.s;
#pragma omp simd
    for (int64_t i = 0; i < d.s; ++i) f(base + i, c);
  }
}

template <class T>
void stats_typed(const T* x, BatchNormDims d, double* mean, double* var) {
  double count = double(d.n * d.s);
  channel_sums(d, [=](int64_t i, int64_t) { return Sum2{double(x[i]), 0.0}; }, mean, nullptr);
  for (int64_t c = 0; c < d.c; ++c) mean[c] /= count;
  channel_sums(
      d,
      [=](int64_t i, int64_t c) {
        double v = double(x[i]) - mean[c];
        return Sum2{v * v, 0.0};
      },
      var, nullptr);
  for (int64_t c = 0; c < d.c; ++c) var[c] /= count;
}

void stats(DType t, const void* x, BatchNormDims d, double* mean, double* var) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("batch_norm_stats", t),
                     stats_typed(static_cast<const T*>(x), d, mean, var));
}

template <class T>
void apply_typed(const T* x, BatchNormDims d, const double* mean, const double* var, double eps,
                 const double* weight, const double* bias, T* y) {
  // y = x * a + b per channel, the coefficients formed in f64 and applied in T (as PyTorch does),
  // so the map vectorizes in the element type.
  std::vector<T> a(size_t(d.c)), b(size_t(d.c));
  for (int64_t c = 0; c < d.c; ++c) {
    double scale = (weight ? weight[c] : 1.0) / std::sqrt(var[c] + eps);
    a[size_t(c)] = T(scale);
    b[size_t(c)] = T((bias ? bias[c] : 0.0) - mean[c] * scale);
  }
  const T *pa = a.data(), *pb = b.data();
  channel_map(d, [=](int64_t i, int64_t c) { y[i] = x[i] * pa[c] + pb[c]; });
}

void apply(DType t, const void* x, BatchNormDims d, const double* mean, const double* var,
           double eps, const double* weight, const double* bias, void* y) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("batch_norm_apply", t),
                     apply_typed(static_cast<const T*>(x), d, mean, var, eps, weight, bias,
                                 static_cast<T*>(y)));
}

template <class T>
void backward_typed(bool training, const T* g, const T* x, BatchNormDims d, const double* mean,
                    const double* var, double eps, const double* weight, T* gx, double* gw,
                    double* gb) {
  size_t nc = size_t(d.c);
  std::vector<double> invstd(nc), sum_g(nc, 0.0), sum_gxc(nc, 0.0);
  for (int64_t c = 0; c < d.c; ++c) invstd[size_t(c)] = 1.0 / std::sqrt(var[c] + eps);
  // Per-channel sum(g) and sum(g * (x - mean)): needed by every output in training mode, and
  // only by the parameter gradients in eval mode.
  if (training || gw || gb)
    channel_sums(
        d,
        [=](int64_t i, int64_t c) {
          double gi = double(g[i]);
          return Sum2{gi, gi * (double(x[i]) - mean[c])};
        },
        sum_g.data(), sum_gxc.data());
  for (int64_t c = 0; c < d.c; ++c) {
    if (gb) gb[c] = sum_g[size_t(c)];
    if (gw) gw[c] = sum_gxc[size_t(c)] * invstd[size_t(c)];
  }
  if (!gx) return;
  // gx = scale * (g - mean_g - (x - mean) * proj), with proj = mean(g * xhat) / sigma, applied as
  // gx = g * kg + x * kx + k0 with per-channel coefficients formed in f64; eval mode: gx = g * kg.
  double count = double(d.n * d.s);
  std::vector<T> kg(nc), kx(nc), k0(nc);
  for (size_t c = 0; c < nc; ++c) {
    double scale = (weight ? weight[c] : 1.0) * invstd[c], mean_g = sum_g[c] / count;
    double proj = training ? sum_gxc[c] * invstd[c] * invstd[c] / count : 0.0;
    kg[c] = T(scale);
    kx[c] = T(-scale * proj);
    k0[c] = T(training ? scale * (mean[c] * proj - mean_g) : 0.0);
  }
  const T *pg = kg.data(), *px = kx.data(), *p0 = k0.data();
  if (!training) {
    channel_map(d, [=](int64_t i, int64_t c) { gx[i] = g[i] * pg[c]; });
    return;
  }
  channel_map(d, [=](int64_t i, int64_t c) { gx[i] = g[i] * pg[c] + x[i] * px[c] + p0[c]; });
}

void backward(DType t, bool training, const void* g, const void* x, BatchNormDims d,
              const double* mean, const double* var, double eps, const double* weight, void* gx,
              double* gw, double* gb) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("batch_norm_backward", t),
                     backward_typed(training, static_cast<const T*>(g), static_cast<const T*>(x),
                                    d, mean, var, eps, weight, static_cast<T*>(gx), gw, gb));
}

}  // namespace

MOX_REGISTER_KERNEL(batch_norm_stats_stub, CPU, stats);
MOX_REGISTER_KERNEL(batch_norm_apply_stub, CPU, apply);
MOX_REGISTER_KERNEL(batch_norm_backward_stub, CPU, backward);

}  // namespace mox::cpu
