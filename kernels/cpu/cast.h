// Vectorized bulk conversions between f32 and the 16-bit float types, for the CPU copy kernel's
// dense paths: F16C for f16, AVX-512 for bf16 (AVX512_BF16's vcvtneps2bf16 for f32 -> bf16).
// Each is bit-identical to the scalar Half / BFloat16 conversions of kernels/common/dtype.h
// (round to nearest even; lanes holding NaN, and f32 subnormals bound for bf16, which the
// hardware treats differently, take the scalar conversion).
#pragma once
#include <cstdint>

namespace mox::cpu {

enum class FastCast { f32_to_f16, f16_to_f32, f32_to_bf16, bf16_to_f32 };

// Whether this processor has the instructions cast c needs (checked once).
bool fast_cast_available(FastCast c);

// Converts n values from in to out (16-bit types as their bits). Call only when
// fast_cast_available(c).
void fast_cast(FastCast c, void* out, const void* in, int64_t n);

}  // namespace mox::cpu
