// The vectorized f32 <-> f16 / bf16 conversions (kernels/cpu/cast.cpp) against the scalar
// Half / BFloat16 conversions they must match bit for bit, on 100k values built to hit every
// rounding case: random bit patterns, subnormals of both formats, infinities, NaNs with
// payloads, overflow boundaries and exact ties (round to nearest even). The 16 -> 32 bit
// directions run over all 65536 inputs. A path this processor lacks is reported and skipped.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/ops.h"
#include "kernels/common/dtype.h"
#include "kernels/cpu/cast.h"

namespace mox::test {
namespace {

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// 100k f32 inputs: every special class with both signs, then random bit patterns. The count is
// not a multiple of 16, so the vector loops' scalar tails run too.
std::vector<float> f32_inputs() {
  std::vector<uint32_t> b = {
      0x00000000, 0x00000001, 0x007fffff, 0x00400000,  // zero, f32 subnormals
      0x00800000, 0x7f7fffff, 0x7f800000,              // min normal, max finite, inf
      0x7fc00000, 0x7f800001, 0x7fbfffff, 0x7fe12345,  // quiet / signaling NaNs with payloads
      0x7f7f8000, 0x7f7f7fff,                          // bf16: ties and near-ties below inf
      0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001,  // f16: 65504 .. the overflow boundary
      0x33000000, 0x33000001, 0x337fffff, 0x33800000,  // f16: half of the smallest subnormal
      0x387fc000, 0x387fe000, 0x38800000, 0x38000000,  // f16: subnormal/normal boundary
      0x3f801000, 0x3f803000, 0x3f800fff, 0x3f801001,  // f16 ties to even (1 + 2^-11, ...)
      0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001,  // bf16 ties to even
  };
  for (size_t i = 0, n = b.size(); i < n; ++i) b.push_back(b[i] | 0x80000000u);
  // f16 subnormal results, ties included: k * 2^-25 for small k.
  for (uint32_t k = 1; k < 64; ++k) b.push_back(bits_of(float(k) * 0x1p-25f));
  std::mt19937 rng(1234);
  while (b.size() < 100000 - 3) {
    uint32_t r = rng();
    switch (r % 4) {
      case 0: b.push_back(r); break;                                   // anything
      case 1: b.push_back((r & 0x80001fffu) | 0x38000000u); break;    // near f16 normal range
      case 2: b.push_back((r & 0x807fffffu) | (uint32_t(r >> 8) % 30 + 0x67u) << 23); break;
      default: b.push_back((r & 0xffff0000u) | 0x8000u); break;      // exact bf16 ties
    }
  }
  std::vector<float> f(b.size());
  for (size_t i = 0; i < b.size(); ++i) f[i] = from_bits(b[i]);
  return f;
}

// All 65536 16-bit patterns, plus a few so the count is not a multiple of 16.
std::vector<uint16_t> all_16bit() {
  std::vector<uint16_t> h(65536 + 5);
  for (size_t i = 0; i < h.size(); ++i) h[i] = uint16_t(i);
  return h;
}

// The index of the first 16-bit output that differs from the scalar conversion, or -1.
template <class Scalar>
int64_t first_mismatch16(cpu::FastCast c, const std::vector<float>& in, Scalar scalar) {
  std::vector<uint16_t> out(in.size());
  cpu::fast_cast(c, out.data(), in.data(), int64_t(in.size()));
  for (size_t i = 0; i < in.size(); ++i)
    if (out[i] != scalar(in[i])) return int64_t(i);
  return -1;
}

template <class Scalar>
int64_t first_mismatch32(cpu::FastCast c, const std::vector<uint16_t>& in, Scalar scalar) {
  std::vector<float> out(in.size());
  cpu::fast_cast(c, out.data(), in.data(), int64_t(in.size()));
  for (size_t i = 0; i < in.size(); ++i)
    if (bits_of(out[i]) != bits_of(scalar(in[i]))) return int64_t(i);
  return -1;
}

bool available(cpu::FastCast c, const char* isa) {
  if (cpu::fast_cast_available(c)) return true;
  MESSAGE("this CPU has no ", std::string(isa), ": vectorized path not tested");
  return false;
}

}  // namespace

TEST_CASE("cast: scalar f16 / bf16 rounding ties go to even") {
  CHECK(Half::from_float(from_bits(0x3f801000)) == 0x3c00);  // 1 + 2^-11: tie, stays 1
  CHECK(Half::from_float(from_bits(0x3f803000)) == 0x3c02);  // 1 + 3*2^-11: tie, up to even
  CHECK(Half::from_float(65520.f) == 0x7c00);                // rounds to inf
  CHECK(Half::from_float(65519.99f) == 0x7bff);
  CHECK(Half::from_float(0x1p-25f) == 0x0000);               // tie with 0: even is 0
  CHECK(Half::from_float(3 * 0x1p-25f) == 0x0002);           // tie between 1 and 2 ulps
  CHECK(BFloat16::from_float(from_bits(0x3f808000)) == 0x3f80);
  CHECK(BFloat16::from_float(from_bits(0x3f818000)) == 0x3f82);
}

TEST_CASE("cast: F16C f32 -> f16 matches the scalar conversion bit for bit") {
  if (!available(cpu::FastCast::f32_to_f16, "F16C")) return;
  std::vector<float> in = f32_inputs();
  int64_t bad = first_mismatch16(cpu::FastCast::f32_to_f16, in, [](float x) { return Half::from_float(x); });
  CHECK_MESSAGE(bad < 0, "input bits ", hex(bits_of(in[size_t(bad < 0 ? 0 : bad)])));
}

TEST_CASE("cast: F16C f16 -> f32 matches the scalar conversion on every input") {
  if (!available(cpu::FastCast::f16_to_f32, "F16C")) return;
  std::vector<uint16_t> in = all_16bit();
  int64_t bad = first_mismatch32(cpu::FastCast::f16_to_f32, in, [](uint16_t h) { return Half::to_float(h); });
  CHECK_MESSAGE(bad < 0, "input bits ", hex(in[size_t(bad < 0 ? 0 : bad)]));
}

TEST_CASE("cast: AVX512_BF16 f32 -> bf16 matches the scalar conversion bit for bit") {
  if (!available(cpu::FastCast::f32_to_bf16, "AVX512_BF16")) return;
  std::vector<float> in = f32_inputs();
  int64_t bad = first_mismatch16(cpu::FastCast::f32_to_bf16, in, [](float x) { return BFloat16::from_float(x); });
  CHECK_MESSAGE(bad < 0, "input bits ", hex(bits_of(in[size_t(bad < 0 ? 0 : bad)])));
}

TEST_CASE("cast: AVX-512 bf16 -> f32 matches the scalar conversion on every input") {
  if (!available(cpu::FastCast::bf16_to_f32, "AVX-512F")) return;
  std::vector<uint16_t> in = all_16bit();
  int64_t bad = first_mismatch32(cpu::FastCast::bf16_to_f32, in, [](uint16_t b) { return BFloat16::to_float(b); });
  CHECK_MESSAGE(bad < 0, "input bits ", hex(in[size_t(bad < 0 ? 0 : bad)]));
}

// Through Tensor::to, which picks the vectorized path for dense tensors (in parallel chunks)
// and the scalar loop for strided ones: both must agree with the scalar conversion.
TEST_CASE("cast: Tensor::to between f32 and f16 / bf16 equals the scalar conversion") {
  std::vector<float> in = f32_inputs();
  Tensor x = from_blob(in.data(), {int64_t(in.size())}, DType::f32);
  for (DType half : {DType::f16, DType::bf16}) {
    CAPTURE(std::string(dtype_name(half)));
    auto scalar = [&](float f) { return half == DType::f16 ? Half::from_float(f) : BFloat16::from_float(f); };
    Tensor dense = x.to(half);
    // The first 2 * pairs inputs as a transposed [2, pairs] view: the strided loop.
    const int64_t pairs = int64_t(in.size()) / 2;
    Tensor strided = x.narrow(0, 0, 2 * pairs).view({pairs, 2}).t().to(half);
    const uint16_t* d = static_cast<const uint16_t*>(dense.raw_data());
    const uint16_t* s = static_cast<const uint16_t*>(strided.raw_data());
    int64_t bad = -1;
    for (int64_t i = 0; i < int64_t(in.size()) && bad < 0; ++i)
      if (d[i] != scalar(in[size_t(i)])) bad = i;
    for (int64_t i = 0; i < 2 * pairs && bad < 0; ++i)  // row i % 2, column i / 2
      if (s[(i % 2) * pairs + i / 2] != scalar(in[size_t(i)])) bad = i;
    CHECK_MESSAGE(bad < 0, "input bits ", hex(bits_of(in[size_t(bad < 0 ? 0 : bad)])));

    std::vector<uint16_t> h = all_16bit();
    Tensor y = from_blob(h.data(), {int64_t(h.size())}, half).to(DType::f32);
    const float* f = static_cast<const float*>(y.raw_data());
    bad = -1;
    for (size_t i = 0; i < h.size() && bad < 0; ++i) {
      float want = half == DType::f16 ? Half::to_float(h[i]) : BFloat16::to_float(h[i]);
      if (bits_of(f[i]) != bits_of(want)) bad = int64_t(i);
    }
    CHECK_MESSAGE(bad < 0, "input bits ", hex(h[size_t(bad < 0 ? 0 : bad)]));
  }
}

}  // namespace mox::test
