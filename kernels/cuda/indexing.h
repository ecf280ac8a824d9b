// Strided indexing for the CUDA elementwise kernels, kept in plain C++ (MOX_HD) so tests check
// it on the host. A kernel turns a linear index into one offset per operand by dividing by each
// dimension's size. Integer division is slow on a GPU (dozens of instructions, far more in 64
// bits), so:
//   - split_loop cuts a loop into pieces of at most 2^31 - 1 elements, so indices fit 32 bits;
//   - FastDiv divides a 32-bit index by a size fixed at launch with a multiply-high, an add and
//     a shift (Granlund & Montgomery, "Division by invariant integers using multiplication").
// Dense loops (Loop::contiguous) index flat in 64 bits and need neither.
#pragma once
#include <cstdint>

#include "kernels/common/hd.h"
#include "kernels/dispatch.h"

namespace mox::cuda {

constexpr int64_t kMax32BitNumel = INT32_MAX;

// q = n / d for n, d in [1, 2^31): with s = ceil(log2 d) and m = floor(2^32 (2^s - d) / d) + 1,
// q = (mulhi(n, m) + n) >> s; n < 2^31 keeps the sum within 32 bits.
struct FastDiv {
  uint32_t divisor = 1, magic = 1, shift = 0;

  FastDiv() = default;
  explicit FastDiv(uint32_t d) : divisor(d) {
    while (shift < 32 && (uint64_t(1) << shift) < d) ++shift;
    magic = uint32_t(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d)) / d + 1);
  }
  MOX_HD uint32_t div(uint32_t n) const {
#if defined(__CUDA_ARCH__)
    uint32_t hi = __umulhi(n, magic);
#else
    uint32_t hi = uint32_t((uint64_t(n) * magic) >> 32);
#endif
    return (hi + n) >> shift;
  }
};

// What a kernel needs of a Loop for N operands: sizes as fast divisors, strides in elements.
template <int N>
struct OffsetCalc {
  int ndim = 0;
  bool contiguous = false;
  int64_t numel = 0;
  FastDiv size[kMaxDims];
  int64_t strides[N][kMaxDims] = {};

  OffsetCalc() = default;
  explicit OffsetCalc(const Loop& loop)
      : ndim(loop.ndim), contiguous(loop.contiguous), numel(loop.numel) {
    for (int d = 0; d < ndim; ++d) {
      size[d] = FastDiv(uint32_t(loop.sizes[d]));
      for (int k = 0; k < N; ++k) strides[k][d] = loop.strides[k][d];
    }
  }

  // Element offsets of operands 0..N-1 at linear index i < 2^31 of a strided loop.
  MOX_HD void strided_offsets(uint32_t i, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    uint32_t rest = i;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int d = kMaxDims - 1; d >= 0; --d) {
      if (d < ndim) {
        uint32_t q = size[d].div(rest), idx = rest - q * size[d].divisor;
        rest = q;
        for (int k = 0; k < N; ++k) off[k] += int64_t(idx) * strides[k][d];
      }
    }
  }
};

// Calls piece(sub_loop, offsets) for pieces that together visit every element of loop exactly
// once, each with at most max_numel elements (or dense). offsets[k] is where operand k's piece
// starts, in elements, relative to operand k's base; `base` carries that through the recursion.
template <class Piece>
void split_loop(const Loop& loop, Piece&& piece, int64_t max_numel = kMax32BitNumel,
                const int64_t (&base)[4] = {0, 0, 0, 0}) {
  if (loop.numel == 0) return;
  if (loop.contiguous || loop.numel <= max_numel || loop.ndim == 0) {
    piece(loop, base);
    return;
  }
  const int64_t outer = loop.sizes[0], inner = loop.numel / outer;
  Loop sub = loop;
  int64_t off[4];
  if (inner > max_numel) {  // one outer slice is still too large: drop dim 0 and recurse
    sub.ndim = loop.ndim - 1;
    sub.numel = inner;
    for (int d = 0; d < sub.ndim; ++d) {
      sub.sizes[d] = loop.sizes[d + 1];
      for (int k = 0; k < 4; ++k) sub.strides[k][d] = loop.strides[k][d + 1];
    }
    for (int64_t j = 0; j < outer; ++j) {
      for (int k = 0; k < 4; ++k) off[k] = base[k] + j * loop.strides[k][0];
      split_loop(sub, piece, max_numel, off);
    }
    return;
  }
  const int64_t chunk = max_numel / inner;  // >= 1 outer slices per piece
  for (int64_t start = 0; start < outer; start += chunk) {
    sub.sizes[0] = start + chunk < outer ? chunk : outer - start;
    sub.numel = sub.sizes[0] * inner;
    for (int k = 0; k < 4; ++k) off[k] = base[k] + start * loop.strides[k][0];
    piece(sub, off);
  }
}

}  // namespace mox::cuda
