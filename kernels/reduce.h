// Reductions over the middle axis of a dense [outer, K, inner] view: sum, or max/min with the
// index of the first extreme element along K.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

enum class ReduceOp { sum, max, min };

// out has outer*inner elements; indices (i64, may be null) too. Sums of f32 accumulate in f64.
using ReduceFn = void(ReduceOp, DType, void* out, int64_t* indices, const void* in, int64_t outer,
                      int64_t K, int64_t inner);

MOX_STUB(reduce_stub, ReduceFn);

}  // namespace mox
