// CUDA elementwise math: unary maps and their derivatives, binary maps (comparisons write
// bool) and where (fill and cast-copy are in copy.cu). The math is the shared functor table of
// kernels/common/functors.h, instantiated for the device exactly as kernels/cpu/elementwise.cpp
// instantiates it for the host; compute types are f32/f64/i32/i64/u8 (core upcasts f16/bf16).
// Versions: one grid-stride kernel per (op, dtype). Dense operands (Loop::contiguous) index
// flat in 64 bits; strided and broadcast operands turn the linear index into per-operand
// offsets in 32-bit arithmetic with precomputed divisors, the launcher splitting loops of 2^31
// elements or more (kernels/cuda/indexing.h). Launches go to the default stream, on the device
// that owns the output. Measured by bench_elementwise.
#include "kernels/cuda/common.cuh"
#include "kernels/elementwise.h"

namespace mox::cuda {
namespace {

[[noreturn]] void unsupported(const char* what, DType t) {
  throw std::invalid_argument(std::string(what) + ": dtype " + dtype_name(t) +
                              " is not supported on CUDA");
}

// ---- kernels

template <class T, class F>
__global__ void unary_kernel(F f, T* out, const T* in, OffsetCalc<2> calc) {
  for_each(calc, [&](const int64_t (&o)[2]) { out[o[0]] = f.f(in[o[1]]); });
}

template <class T, class F>
__global__ void unary_backward_kernel(F f, T* gin, const T* x, const T* y, const T* g, int64_t n) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    gin[i] = f.df(x[i], y[i], g[i]);
}

template <class O, class T, class F>
__global__ void binary_kernel(F f, O* out, const T* a, const T* b, OffsetCalc<3> calc) {
  for_each(calc, [&](const int64_t (&o)[3]) { out[o[0]] = O(f(a[o[1]], b[o[2]])); });
}

template <class T>
__global__ void where_kernel(T* out, const bool* cond, const T* a, const T* b, OffsetCalc<4> calc) {
  for_each(calc, [&](const int64_t (&o)[4]) { out[o[0]] = cond[o[1]] ? a[o[2]] : b[o[3]]; });
}

// ---- launchers

template <class T>
void unary_switch(fn::Unary op, fn::Params p, T* out, const T* in, const Loop& loop) {
  const unsigned grid = grid_for(loop.numel);
  const OffsetCalc<2> calc(loop);
  switch (op) {
#define MOX_X(name, F)                                                                     \
  case fn::Unary::name:                                                                    \
    MOX_LAUNCH(grid, kBlockSize, 0, 0, unary_kernel<T, fn::F>)(fn::F{p}, out, in, calc);  \
    break;
    MOX_UNARY_OPS(MOX_X)
#undef MOX_X
  }
}

void unary(fn::Unary op, fn::Params p, DType t, void* out, const void* in, const Loop& loop) {
  if (loop.numel <= 0) return;
  DeviceGuard guard(device_of(out));
  MOX_DISPATCH_COMPUTE(t, T, unsupported("unary", t),
                       split_loop(loop, [&](const Loop& l, const int64_t (&o)[4]) {
                         unary_switch(op, p, static_cast<T*>(out) + o[0],
                                      static_cast<const T*>(in) + o[1], l);
                       }));
  check_launch("unary_kernel");
}

template <class T>
void unary_backward_switch(fn::Unary op, fn::Params p, T* gin, const T* x, const T* y, const T* g,
                           int64_t n) {
  switch (op) {
#define MOX_X(name, F)                                                                     \
  case fn::Unary::name:                                                                    \
    MOX_LAUNCH(grid_for(n), kBlockSize, 0, 0, unary_backward_kernel<T, fn::F>)(          \
        fn::F{p}, gin, x, y, g, n);                                                        \
    break;
    MOX_UNARY_OPS(MOX_X)
#undef MOX_X
  }
}

void unary_backward(fn::Unary op, fn::Params p, DType t, void* gin, const void* x, const void* y,
                    const void* g, int64_t n) {
  if (n <= 0) return;
  DeviceGuard guard(device_of(gin));
  MOX_DISPATCH_FLOAT(t, T, unsupported("unary_backward", t),
                     unary_backward_switch(op, p, static_cast<T*>(gin), static_cast<const T*>(x),
                                           static_cast<const T*>(y), static_cast<const T*>(g), n));
  check_launch("unary_backward_kernel");
}

// out is bool* for comparisons, T* otherwise; out_off is its offset in elements.
template <class T>
void binary_switch(fn::Binary op, void* out, int64_t out_off, const T* a, const T* b,
                   const Loop& loop) {
  const unsigned grid = grid_for(loop.numel);
  const OffsetCalc<3> calc(loop);
  switch (op) {
#define MOX_X(name, F)                                                                     \
  case fn::Binary::name:                                                                   \
    if constexpr (fn::is_comparison(fn::Binary::name))                                     \
      MOX_LAUNCH(grid, kBlockSize, 0, 0, binary_kernel<bool, T, fn::F>)(                   \
          fn::F{}, static_cast<bool*>(out) + out_off, a, b, calc);                         \
    else                                                                                   \
      MOX_LAUNCH(grid, kBlockSize, 0, 0, binary_kernel<T, T, fn::F>)(                      \
          fn::F{}, static_cast<T*>(out) + out_off, a, b, calc);                            \
    break;
    MOX_BINARY_OPS(MOX_X)
#undef MOX_X
  }
}

void binary(fn::Binary op, DType t, void* out, const void* a, const void* b, const Loop& loop) {
  if (loop.numel <= 0) return;
  DeviceGuard guard(device_of(out));
  MOX_DISPATCH_COMPUTE(t, T, unsupported("binary", t),
                       split_loop(loop, [&](const Loop& l, const int64_t (&o)[4]) {
                         binary_switch(op, out, o[0], static_cast<const T*>(a) + o[1],
                                       static_cast<const T*>(b) + o[2], l);
                       }));
  check_launch("binary_kernel");
}

void where(DType t, void* out, const bool* cond, const void* a, const void* b, const Loop& loop) {
  if (loop.numel <= 0) return;
  DeviceGuard guard(device_of(out));
  MOX_DISPATCH_COMPUTE(t, T, unsupported("where", t),
                       split_loop(loop, [&](const Loop& l, const int64_t (&o)[4]) {
                         MOX_LAUNCH(grid_for(l.numel), kBlockSize, 0, 0, where_kernel<T>)(
                             static_cast<T*>(out) + o[0], cond + o[1],
                             static_cast<const T*>(a) + o[2], static_cast<const T*>(b) + o[3],
                             OffsetCalc<4>(l));
                       }));
  check_launch("where_kernel");
}

}  // namespace

MOX_REGISTER_KERNEL(unary_stub, CUDA, unary);
MOX_REGISTER_KERNEL(unary_backward_stub, CUDA, unary_backward);
MOX_REGISTER_KERNEL(binary_stub, CUDA, binary);
MOX_REGISTER_KERNEL(where_stub, CUDA, where);

}  // namespace mox::cuda
