// CPU elementwise kernels: fill, cast-copy, unary maps and their derivatives, binary maps and
// where. Every loop instantiates the shared functors of kernels/common/functors.h; dense
// operands take a flat loop the compiler vectorizes, others the strided row loop. Dense casts
// between f32 and f16 / bf16 use the F16C / AVX-512 conversions of kernels/cpu/cast.cpp.
// Measured by bench_elementwise.
#include <stdexcept>
#include <string>

#include "kernels/cpu/cast.h"
#include "kernels/cpu/loop.h"
#include "kernels/elementwise.h"

namespace mox::cpu {
namespace {

void fill(DType t, void* out, double value, int64_t n) {
  MOX_DISPATCH_ALL(t, T, {
    T v = T(value);
    T* o = static_cast<T*>(out);
    parallel_range(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = v;
    });
  });
}

template <class O, class I>
void copy_typed(O* out, const I* in, const Loop& loop) {
  if (loop.contiguous) {
    parallel_range(loop.numel, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] = O(float_or_self(in[i]));
    });
    return;
  }
  char* base[2] = {reinterpret_cast<char*>(out), reinterpret_cast<char*>(const_cast<I*>(in))};
  const int64_t es[2] = {sizeof(O), sizeof(I)};
  for_each_row<2>(loop, base, es, [](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<O*>(p[0] + i * st[0]) = O(float_or_self(*reinterpret_cast<const I*>(p[1] + i * st[1])));
  });
}

// Dense casts between f32 and f16 / bf16 take the vectorized conversions of cast.h when the
// processor has them; false leaves the copy to the generic loops.
bool fast_copy(DType ot, void* out, DType it, const void* in, int64_t n) {
  FastCast c;
  if (it == DType::f32 && ot == DType::f16) c = FastCast::f32_to_f16;
  else if (it == DType::f16 && ot == DType::f32) c = FastCast::f16_to_f32;
  else if (it == DType::f32 && ot == DType::bf16) c = FastCast::f32_to_bf16;
  else if (it == DType::bf16 && ot == DType::f32) c = FastCast::bf16_to_f32;
  else return false;
  if (!fast_cast_available(c)) return false;
  parallel_range(n, [&](int64_t b, int64_t e) {
    fast_cast(c, static_cast<char*>(out) + b * dtype_size(ot),
              static_cast<const char*>(in) + b * dtype_size(it), e - b);
  });
  return true;
}

void copy(DType ot, void* out, DType it, const void* in, const Loop& loop) {
  if (loop.contiguous && fast_copy(ot, out, it, in, loop.numel)) return;
  MOX_DISPATCH_ALL(ot, O, {
    MOX_DISPATCH_ALL(it, I, copy_typed(static_cast<O*>(out), static_cast<const I*>(in), loop));
  });
}

template <class T, class F>
void unary_typed(F f, T* out, const T* in, const Loop& loop) {
  if (loop.contiguous) {
    parallel_range(loop.numel, [&](int64_t b, int64_t e) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) out[i] = f.f(in[i]);
    });
    return;
  }
  char* base[2] = {reinterpret_cast<char*>(out), reinterpret_cast<char*>(const_cast<T*>(in))};
  const int64_t es[2] = {sizeof(T), sizeof(T)};
  for_each_row<2>(loop, base, es, [&](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<T*>(p[0] + i * st[0]) = f.f(*reinterpret_cast<const T*>(p[1] + i * st[1]));
  });
}

template <class T>
void unary_switch(fn::Unary op, fn::Params p, T* out, const T* in, const Loop& loop) {
  switch (op) {
#define MOX_X(name, F) \
  case fn::Unary::name: unary_typed(fn::F{p}, out, in, loop); break;
    MOX_UNARY_OPS(MOX_X)
#undef MOX_X
  }
}

void unary(fn::Unary op, fn::Params p, DType t, void* out, const void* in, const Loop& loop) {
  MOX_DISPATCH_COMPUTE(t, T, unsupported("unary", t),
                       unary_switch(op, p, static_cast<T*>(out), static_cast<const T*>(in), loop));
}

template <class T, class F>
void unary_backward_typed(F f, T* gin, const T* x, const T* y, const T* g, int64_t n) {
  parallel_range(n, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) gin[i] = f.df(x[i], y[i], g[i]);
  });
}

template <class T>
void unary_backward_switch(fn::Unary op, fn::Params p, T* gin, const T* x, const T* y, const T* g,
                           int64_t n) {
  switch (op) {
#define MOX_X(name, F) \
  case fn::Unary::name: unary_backward_typed(fn::F{p}, gin, x, y, g, n); break;
    MOX_UNARY_OPS(MOX_X)
#undef MOX_X
  }
}

void unary_backward(fn::Unary op, fn::Params p, DType t, void* gin, const void* x, const void* y,
                    const void* g, int64_t n) {
  MOX_DISPATCH_FLOAT(t, T, unsupported("unary_backward", t),
                     unary_backward_switch(op, p, static_cast<T*>(gin), static_cast<const T*>(x),
                                           static_cast<const T*>(y), static_cast<const T*>(g), n));
}

template <class O, class T, class F>
void binary_typed(F f, O* out, const T* a, const T* b, const Loop& loop) {
  if (loop.contiguous) {
    parallel_range(loop.numel, [&](int64_t lo, int64_t hi) {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) out[i] = O(f(a[i], b[i]));
    });
    return;
  }
  char* base[3] = {reinterpret_cast<char*>(out), reinterpret_cast<char*>(const_cast<T*>(a)),
                   reinterpret_cast<char*>(const_cast<T*>(b))};
  const int64_t es[3] = {sizeof(O), sizeof(T), sizeof(T)};
  for_each_row<3>(loop, base, es, [&](char* const* p, const int64_t* st, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      *reinterpret_cast<O*>(p[0] + i * st[0]) =
          O(f(*reinterpret_cast<const T*>(p[1] + i * st[1]), *reinterpret_cast<const T*>(p[2] + i * st[2])));
  });
}

template <class T>
void binary_switch(fn::Binary op, void* out, const T* a, const T* b, const Loop& loop) {
  switch (op) {
#define MOX_X(name, F)                                                                  \
  case fn::Binary::name:                                                                \
    if (fn::is_comparison(op)) binary_typed(fn::F{}, static_cast<bool*>(out), a, b, loop); \
    else binary_typed(fn::F{}, static_cast<T*>(out), a, b, loop);                       \
    break;
    MOX_BINARY_OPS(MOX_X)
#undef MOX_X
  }
}

void binary(fn::Binary op, DType t, void* out, const void* a, const void* b, const Loop& loop) {
  MOX_DISPATCH_COMPUTE(t, T, unsupported("binary", t),
                       binary_switch(op, out, static_cast<const T*>(a), static_cast<const T*>(b), loop));
}

void where(DType t, void* out, const bool* cond, const void* a, const void* b, const Loop& loop) {
  MOX_DISPATCH_COMPUTE(t, T, unsupported("where", t), {
    char* base[4] = {static_cast<char*>(out), reinterpret_cast<char*>(const_cast<bool*>(cond)),
                     static_cast<char*>(const_cast<void*>(a)), static_cast<char*>(const_cast<void*>(b))};
    const int64_t es[4] = {sizeof(T), 1, sizeof(T), sizeof(T)};
    for_each_row<4>(loop, base, es, [](char* const* p, const int64_t* st, int64_t n) {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<T*>(p[0] + i * st[0]) = *reinterpret_cast<const bool*>(p[1] + i * st[1])
                                                     ? *reinterpret_cast<const T*>(p[2] + i * st[2])
                                                     : *reinterpret_cast<const T*>(p[3] + i * st[3]);
    });
  });
}

}  // namespace

MOX_REGISTER_KERNEL(fill_stub, CPU, fill);
MOX_REGISTER_KERNEL(copy_stub, CPU, copy);
MOX_REGISTER_KERNEL(unary_stub, CPU, unary);
MOX_REGISTER_KERNEL(unary_backward_stub, CPU, unary_backward);
MOX_REGISTER_KERNEL(binary_stub, CPU, binary);
MOX_REGISTER_KERNEL(where_stub, CPU, where);

}  // namespace mox::cpu
