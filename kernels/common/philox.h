// Philox 4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11; the
// Random123 reference): a counter-based generator that maps a 128-bit counter and a 64-bit key
// to four independent 32-bit words. Random tensors draw element i from counter offset + i / k
// (k values per counter, see the constants below) under key = seed, so every element is a pure
// function of (seed, offset, i) and the result is the same for any thread count or device.
// Also here: the word -> float conversions ([0, 1) and (0, 1]) and the Box-Muller transform,
// shared by the CPU kernels (kernels/cpu/random.cpp) and CUDA kernels.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common/hd.h"

namespace mox::philox {

struct Words {
  uint32_t v[4];
};

constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;   // round multipliers
constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // key schedule increments

MOX_HD void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  hi = uint32_t(p >> 32);
  lo = uint32_t(p);
}

MOX_HD Words philox_round(Words c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo(kMul0, c.v[0], hi0, lo0);
  mulhilo(kMul1, c.v[2], hi1, lo1);
  return Words{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
}

// The full generator on an explicit 128-bit counter and 64-bit key (the KAT interface).
MOX_HD Words philox4x32_10(Words counter, uint32_t key0, uint32_t key1) {
  Words c = counter;
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    c = philox_round(c, key0, key1);
  }
  return c;
}

// The four words of one 64-bit counter value under a 64-bit seed.
MOX_HD Words draw(uint64_t seed, uint64_t counter) {
  Words c{{uint32_t(counter), uint32_t(counter >> 32), 0u, 0u}};
  return philox4x32_10(c, uint32_t(seed), uint32_t(seed >> 32));
}

// Values each counter yields, per kind of draw (words needed per value: 1 for float, 2 for
// double and for 64-bit integers). A draw of n values uses ceil(n / k) counters.
constexpr int64_t kFloatsPerCounter = 4;   // uniform/normal f32 and bernoulli masks
constexpr int64_t kDoublesPerCounter = 2;  // uniform/normal f64
constexpr int64_t kIntsPerCounter = 2;     // randint (64-bit words)
MOX_HD int64_t counters_for(int64_t n, int64_t per_counter) {
  return (n + per_counter - 1) / per_counter;
}

// 24 random bits to a float in [0, 1), and in (0, 1] (the log argument of Box-Muller).
MOX_HD float to_float01(uint32_t w) { return float(w >> 8) * 5.9604644775390625e-8f; }
MOX_HD float to_float01_open0(uint32_t w) {
  return float((w >> 8) + 1u) * 5.9604644775390625e-8f;
}
// 53 random bits from two words to a double in [0, 1), and in (0, 1].
MOX_HD double to_double01(uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(x) * 1.1102230246251565e-16;
}
MOX_HD double to_double01_open0(uint32_t hi, uint32_t lo) {
  uint64_t x = ((uint64_t(hi) << 32) | lo) >> 11;
  return double(x + 1) * 1.1102230246251565e-16;
}
MOX_HD uint64_t to_u64(uint32_t hi, uint32_t lo) { return (uint64_t(hi) << 32) | lo; }

// Bernoulli draws for dropout: a word is kept (probability 1 - p) when its float
// to_float01(w) >= p, tested on integers: the top 24 bits are at least ceil(p * 2^24).
MOX_HD uint32_t bernoulli_threshold(double p) { return uint32_t(::ceil(p * 16777216.0)); }
MOX_HD bool kept(uint32_t w, uint32_t threshold) { return (w >> 8) >= threshold; }

// Box-Muller: two uniforms (u1 in (0, 1], u2 in [0, 1)) to two independent standard normals.
MOX_HD void box_muller(float u1, float u2, float& z0, float& z1) {
  float r = ::sqrtf(-2.0f * ::logf(u1));
  float theta = 6.2831853071795864769f * u2;
  z0 = r * ::cosf(theta);
  z1 = r * ::sinf(theta);
}
MOX_HD void box_muller(double u1, double u2, double& z0, double& z1) {
  double r = ::sqrt(-2.0 * ::log(u1));
  double theta = 6.2831853071795864769 * u2;
  z0 = r * ::cos(theta);
  z1 = r * ::sin(theta);
}

// Four standard normals (f32) from one counter; two (f64) from one counter.
MOX_HD void normal4(const Words& w, float (&z)[4]) {
  box_muller(to_float01_open0(w.v[0]), to_float01(w.v[1]), z[0], z[1]);
  box_muller(to_float01_open0(w.v[2]), to_float01(w.v[3]), z[2], z[3]);
}
MOX_HD void normal2(const Words& w, double (&z)[2]) {
  box_muller(to_double01_open0(w.v[0], w.v[1]), to_double01(w.v[2], w.v[3]), z[0], z[1]);
}

}  // namespace mox::philox
