// Softmax and loss kernel families. Every kernel works on dense row-major [rows, cols] buffers:
// core (core/ops/loss.cpp) moves the reduced or class dim last, makes the operands contiguous
// and upcasts f16/bf16 to f32 first, so kernels see f32 or f64 values and i32 or i64 indices.
#pragma once
#include "kernels/dispatch.h"

namespace mox {

// out[r, :] = softmax(in[r, :]) or, with log, log_softmax(in[r, :]); numerically stable.
using SoftmaxFn = void(DType, void* out, const void* in, int64_t rows, int64_t cols, bool log);
// From the forward output y and the output gradient g:
//   softmax:     grad_in = y * (g - sum(g * y))
//   log_softmax: grad_in = g - exp(y) * sum(g)
using SoftmaxBackwardFn = void(DType, void* grad_in, const void* y, const void* grad_out,
                               int64_t rows, int64_t cols, bool log);
// out[r] = -log_probs[r, target[r]]. Returns the first row whose target lies outside
// [0, cols) (out is then unspecified), or -1 when every target is valid.
using NllFn = int64_t(DType, void* out, const void* log_probs, DType target_t, const void* target,
                      int64_t rows, int64_t cols);
// grad_in = 0 except grad_in[r, target[r]] = -grad_out[r]; targets were checked by NllFn.
using NllBackwardFn = void(DType, void* grad_in, const void* grad_out, DType target_t,
                           const void* target, int64_t rows, int64_t cols);
// out [n, num_classes] of out_t: 1 at indices[i], 0 elsewhere. Returns the first position whose
// index lies outside [0, num_classes), or -1.
using OneHotFn = int64_t(DType out_t, void* out, DType index_t, const void* indices, int64_t n,
                         int64_t num_classes);
// out[r] = fewer than k entries of predictions[r, :] are greater than predictions[r, target[r]]
// (TensorFlow's in_top_k: ties count as in; an out-of-range target or a non-finite value in
// the row gives false).
using InTopKFn = void(DType, bool* out, const void* predictions, DType target_t,
                      const void* targets, int64_t rows, int64_t cols, int64_t k);

MOX_STUB(softmax_stub, SoftmaxFn);
MOX_STUB(softmax_backward_stub, SoftmaxBackwardFn);
MOX_STUB(nll_stub, NllFn);
MOX_STUB(nll_backward_stub, NllBackwardFn);
MOX_STUB(one_hot_stub, OneHotFn);
MOX_STUB(in_top_k_stub, InTopKFn);

}  // namespace mox
