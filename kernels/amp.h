// Mixed-precision kernel family: the loss scaler's unscale-and-check, one pass over a gradient
// that multiplies it in place by 1/scale and reports whether every value stayed finite.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

// g[i] *= factor for i < n (dense), computed in f32 for f16/bf16 (f64 for f64); returns false
// when any result is inf or NaN. dtype: f32, f64, f16 or bf16.
using UnscaleFn = bool(DType, void* g, int64_t n, double factor);
MOX_STUB(unscale_stub, UnscaleFn);

}  // namespace mox
