// CPU softmax and loss kernels over dense [rows, cols] buffers (f32/f64 values, i32/i64
// indices), one row per OpenMP iteration:
//   softmax / log_softmax forward: subtract the row max, exponentiate, normalize (stable for
//     any finite input); backward from the saved output.
//   nll forward / backward: gather -log_probs[r, target[r]], scatter -grad_out[r] back.
//   one_hot: scatter ones into a zeroed [n, num_classes] buffer of any dtype.
//   in_top_k: count the entries greater than the target's (TensorFlow's tie rule).
// Tested against PyTorch by tests/core/ops_loss.cpp (cases in tests/ref/cases_loss.py).
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "kernels/cpu/loop.h"
#include "kernels/softmax.h"

namespace mox::cpu {
namespace {

// Runs body with I bound to the C++ type of an index dtype (i32 or i64).
#define MOX_DISPATCH_INDEX(dt, I, what, ...)         \
  switch (dt) {                                      \
    MOX_DTYPE_CASE(i32, int32_t, I, __VA_ARGS__)     \
    MOX_DTYPE_CASE(i64, int64_t, I, __VA_ARGS__)     \
    default: unsupported(what, dt);                  \
  }

template <class T>
void softmax_rows(T* out, const T* in, int64_t rows, int64_t cols, bool log) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* x = in + r * cols;
    T* y = out + r * cols;
    T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < cols; ++c) m = x[c] > m ? x[c] : m;
    // NaN anywhere, +inf, or a row of -inf make the row NaN (x - m is NaN), as in PyTorch.
    T s = 0;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += std::exp(x[c] - m);
      T shift = m + std::log(s);
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) y[c] = x[c] - shift;
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        y[c] = std::exp(x[c] - m);
        s += y[c];
      }
      T inv = T(1) / s;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) y[c] *= inv;
    }
  }
}

void softmax(DType t, void* out, const void* in, int64_t rows, int64_t cols, bool log) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("softmax", t),
                     softmax_rows(static_cast<T*>(out), static_cast<const T*>(in), rows, cols, log));
}

template <class T>
void softmax_backward_rows(T* gi, const T* y, const T* g, int64_t rows, int64_t cols, bool log) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* gr = g + r * cols;
    T* o = gi + r * cols;
    T s = 0;
    if (log) {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += gr[c];
      for (int64_t c = 0; c < cols; ++c) o[c] = gr[c] - std::exp(yr[c]) * s;
    } else {
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < cols; ++c) s += gr[c] * yr[c];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) o[c] = yr[c] * (gr[c] - s);
    }
  }
}

void softmax_backward(DType t, void* gi, const void* y, const void* g, int64_t rows, int64_t cols,
                      bool log) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("softmax_backward", t),
                     softmax_backward_rows(static_cast<T*>(gi), static_cast<const T*>(y),
                                           static_cast<const T*>(g), rows, cols, log));
}

// First position in [0, n) whose index lies outside [0, limit), or -1.
template <class I>
int64_t first_out_of_range(const I* idx, int64_t n, int64_t limit) {
  for (int64_t i = 0; i < n; ++i)
    if (int64_t(idx[i]) < 0 || int64_t(idx[i]) >= limit) return i;
  return -1;
}

int64_t nll(DType t, void* out, const void* lp, DType tt, const void* target, int64_t rows,
            int64_t cols) {
  int64_t bad = -1;
  MOX_DISPATCH_INDEX(tt, I, "nll_loss target", {
    const I* tg = static_cast<const I*>(target);
    bad = first_out_of_range(tg, rows, cols);
    if (bad < 0) {
      MOX_DISPATCH_FLOAT(t, T, unsupported("nll_loss", t), {
        T* o = static_cast<T*>(out);
        const T* x = static_cast<const T*>(lp);
        parallel_range(rows, [&](int64_t b, int64_t e) {
          for (int64_t r = b; r < e; ++r) o[r] = -x[r * cols + int64_t(tg[r])];
        });
      });
    }
  });
  return bad;
}

template <class T, class I>
void nll_backward_rows(T* gi, const T* g, const I* tg, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    T* row = gi + r * cols;
    for (int64_t c = 0; c < cols; ++c) row[c] = T(0);
    int64_t k = int64_t(tg[r]);
    if (k >= 0 && k < cols) row[k] = -g[r];
  }
}

void nll_backward(DType t, void* gi, const void* go, DType tt, const void* target, int64_t rows,
                  int64_t cols) {
  MOX_DISPATCH_INDEX(tt, I, "nll_loss target", {
    MOX_DISPATCH_FLOAT(t, T, unsupported("nll_loss backward", t),
                       nll_backward_rows(static_cast<T*>(gi), static_cast<const T*>(go),
                                         static_cast<const I*>(target), rows, cols));
  });
}

template <class T, class I>
void one_hot_rows(T* out, const I* idx, int64_t n, int64_t classes) {
  const T zero = T(0.0f), one = T(1.0f);
#pragma omp parallel for schedule(static) if (n * classes > kParallelGrain && n > 1)
  for (int64_t i = 0; i < n; ++i) {
    T* row = out + i * classes;
    for (int64_t c = 0; c < classes; ++c) row[c] = zero;
    row[int64_t(idx[i])] = one;
  }
}

int64_t one_hot(DType ot, void* out, DType it, const void* indices, int64_t n, int64_t classes) {
  int64_t bad = -1;
  MOX_DISPATCH_INDEX(it, I, "one_hot indices", {
    const I* idx = static_cast<const I*>(indices);
    bad = first_out_of_range(idx, n, classes);
    if (bad < 0) MOX_DISPATCH_ALL(ot, T, one_hot_rows(static_cast<T*>(out), idx, n, classes));
  });
  return bad;
}

template <class T, class I>
void in_top_k_rows(bool* out, const T* pred, const I* tg, int64_t rows, int64_t cols, int64_t k) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain && rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* p = pred + r * cols;
    int64_t target = int64_t(tg[r]);
    bool in = target >= 0 && target < cols && std::isfinite(p[target]);
    if (in) {
      T v = p[target];
      int64_t greater = 0;
      for (int64_t c = 0; c < cols && in; ++c) {
        if (!std::isfinite(p[c])) in = false;
        else if (p[c] > v) ++greater;
      }
      in = in && greater < k;
    }
    out[r] = in;
  }
}

void in_top_k(DType t, bool* out, const void* pred, DType tt, const void* targets, int64_t rows,
              int64_t cols, int64_t k) {
  MOX_DISPATCH_INDEX(tt, I, "in_top_k targets", {
    MOX_DISPATCH_FLOAT(t, T, unsupported("in_top_k", t),
                       in_top_k_rows(out, static_cast<const T*>(pred), static_cast<const I*>(targets),
                                     rows, cols, k));
  });
}

#undef MOX_DISPATCH_INDEX

}  // namespace

MOX_REGISTER_KERNEL(softmax_stub, CPU, softmax);
MOX_REGISTER_KERNEL(softmax_backward_stub, CPU, softmax_backward);
MOX_REGISTER_KERNEL(nll_stub, CPU, nll);
MOX_REGISTER_KERNEL(nll_backward_stub, CPU, nll_backward);
MOX_REGISTER_KERNEL(one_hot_stub, CPU, one_hot);
MOX_REGISTER_KERNEL(in_top_k_stub, CPU, in_top_k);

}  // namespace mox::cpu
