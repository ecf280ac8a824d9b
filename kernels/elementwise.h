// Elementwise kernel families: fill, cast-copy, unary map and its derivative, binary map, where.
#pragma once
#include "kernels/common/functors.h"
#include "kernels/dispatch.h"

namespace mox {

// Kernel signatures. Pointers are already offset to the first element.
using FillFn = void(DType, void* out, double value, int64_t n);
using CopyFn = void(DType out_t, void* out, DType in_t, const void* in, const Loop&);
using UnaryFn = void(fn::Unary, fn::Params, DType, void* out, const void* in, const Loop&);
using UnaryBackwardFn = void(fn::Unary, fn::Params, DType, void* grad_in, const void* x,
                             const void* y, const void* grad_out, int64_t n);
// Comparisons write bool; everything else writes dtype.
using BinaryFn = void(fn::Binary, DType, void* out, const void* a, const void* b, const Loop&);
using WhereFn = void(DType, void* out, const bool* cond, const void* a, const void* b, const Loop&);

MOX_STUB(fill_stub, FillFn);
MOX_STUB(copy_stub, CopyFn);
MOX_STUB(unary_stub, UnaryFn);
MOX_STUB(unary_backward_stub, UnaryBackwardFn);
MOX_STUB(binary_stub, BinaryFn);
MOX_STUB(where_stub, WhereFn);

}  // namespace mox
