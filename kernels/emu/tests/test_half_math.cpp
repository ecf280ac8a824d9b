// fp16 / bf16 conversions and arithmetic, and the math and integer intrinsics, against
// independent references (exhaustive round trips, a search over all 16-bit values, known
// values from CUDA's documentation).
#include <algorithm>
#include <map>

#include "kernels/emu/tests/helpers.h"

using namespace emu_test;

namespace {

// The 16-bit pattern nearest to x (ties to even), found by search over every finite value.
template <class H>
unsigned short nearest(double x) {
  static const std::map<double, unsigned short> table = [] {
    std::map<double, unsigned short> m;
    for (unsigned b = 0; b < 0x10000; ++b) {
      const float f = float(H::from_bits((unsigned short)b));
      if (std::isfinite(f) && !(f == 0 && (b & 0x8000))) m.emplace(double(f), (unsigned short)b);
    }
    return m;
  }();
  const double max = table.rbegin()->first, next = max + (max - std::prev(table.end(), 2)->first);
  unsigned short bits;
  if (std::fabs(x) >= (max + next) / 2) {  // past the midpoint to the next power: infinity
    bits = (unsigned short)(H(INFINITY).__x | (x < 0 ? 0x8000 : 0));
  } else {
    auto hi = table.lower_bound(x);
    auto lo = hi == table.begin() ? hi : std::prev(hi);
    if (hi == table.end()) hi = lo;
    const double dl = x - lo->first, dh = hi->first - x;
    bits = dl < dh ? lo->second : dh < dl ? hi->second : (lo->second & 1) ? hi->second : lo->second;
  }
  if ((bits & 0x7fff) == 0) bits = std::signbit(x) ? 0x8000 : 0;  // zero takes the sign of x
  return bits;
}

template <class H>
void check_roundtrip_and_rounding() {
  for (unsigned b = 0; b < 0x10000; ++b) {
    const H h = H::from_bits((unsigned short)b);
    const float f = float(h);
    if (f != f) continue;
    REQUIRE(H(f).__x == b);
  }
  std::mt19937 gen(5);
  std::uniform_int_distribution<unsigned> bits(0, 0xffff);
  for (int i = 0; i < 20000; ++i) {
    const H a = H::from_bits((unsigned short)bits(gen)), b = H::from_bits((unsigned short)bits(gen));
    const double x = float(a), y = float(b);
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    if (!std::isfinite(x + y) || !std::isfinite(x * y)) continue;
    REQUIRE((a + b).__x == nearest<H>(x + y));
    REQUIRE((a * b).__x == nearest<H>(x * y));
    const double z = x + std::ldexp(y, -12);  // float intermediates would round twice here
    REQUIRE(H(z).__x == nearest<H>(z));
  }
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("fp16 and bf16: exhaustive round trip and correctly rounded conversion and arithmetic") {
  check_roundtrip_and_rounding<__half>();
  check_roundtrip_and_rounding<__nv_bfloat16>();
}

TEST_CASE("fp16: known encodings and special values and intrinsics") {
  CHECK(__half_as_ushort(__float2half(1.0f)) == 0x3c00);
  CHECK(__half_as_ushort(__float2half(65504.0f)) == 0x7bff);
  CHECK(__half_as_ushort(__float2half(65519.0f)) == 0x7bff);
  CHECK(__half_as_ushort(__float2half(65520.0f)) == 0x7c00);
  CHECK(__half_as_ushort(__float2half(std::ldexp(1.0f, -24))) == 0x0001);
  CHECK(__half_as_ushort(__float2half(std::ldexp(1.0f, -25))) == 0x0000);
  CHECK(__half_as_ushort(__float2half(std::ldexp(3.0f, -25))) == 0x0002);
  CHECK(__half_as_ushort(__float2half(-0.0f)) == 0x8000);
  CHECK(__hisnan(__float2half(NAN)));
  CHECK(__hisinf(__float2half(-INFINITY)) == -1);
  CHECK(__half2float(__ushort_as_half(0x3555)) == doctest::Approx(0.33325195));
  CHECK(__half_as_ushort(__float2half_rz(1.0f + std::ldexp(1.0f, -11) * 1.5f)) == 0x3c00);
  CHECK(__half_as_ushort(__float2half_ru(1.0f + std::ldexp(1.0f, -20))) == 0x3c01);
  CHECK(__half_as_ushort(__float2half_rd(-1.0f - std::ldexp(1.0f, -20))) == 0xbc01);
  CHECK(__half_as_ushort(__float2half_rz(100000.0f)) == 0x7bff);
  CHECK(__half2int_rn(__float2half(2.5f)) == 2);
  CHECK(__half2int_rz(__float2half(-2.75f)) == -2);
  CHECK(__half2int_rd(__float2half(-2.25f)) == -3);
  CHECK(__half2int_ru(__float2half(2.25f)) == 3);
  CHECK(float(__hmax(__float2half(NAN), __float2half(3.0f))) == 3.0f);
  CHECK(__hisnan(__hmax_nan(__float2half(NAN), __float2half(3.0f))));
  CHECK(float(__hfma(__float2half(2.0f), __float2half(3.0f), __float2half(1.0f))) == 7.0f);
  CHECK(float(__hadd_sat(__float2half(0.75f), __float2half(0.5f))) == 1.0f);
  CHECK(float(hsqrt(__float2half(9.0f))) == 3.0f);
  const __half2 h2 = __floats2half2_rn(1.5f, -2.0f);
  const float2 f2 = __half22float2(__hmul2(h2, __half2half2(__float2half(2.0f))));
  CHECK(f2.x == 3.0f);
  CHECK(f2.y == -4.0f);
  CHECK(float(__low2half(__lowhigh2highlow(h2))) == -2.0f);
  CHECK(float(__hneg(__float2half(1.0f))) == -1.0f);
  __half acc = __float2half(1.0f);
  acc += __float2half(2.0f);
  CHECK(float(acc) == 3.0f);
  CHECK(__float2half(0.5f) < __float2half(0.75f));
}

TEST_CASE("bf16: known encodings and intrinsics") {
  CHECK(__bfloat16_as_ushort(__float2bfloat16(1.0f)) == 0x3f80);
  CHECK(__bfloat16_as_ushort(__float2bfloat16(std::bit_cast<float>(0x3f808000u))) == 0x3f80);
  CHECK(__bfloat16_as_ushort(__float2bfloat16(std::bit_cast<float>(0x3f818000u))) == 0x3f82);
  CHECK(__bfloat16_as_ushort(__float2bfloat16_rz(std::bit_cast<float>(0x3f81ffffu))) == 0x3f81);
  CHECK(__bfloat16_as_ushort(__float2bfloat16(NAN)) == 0x7fff);
  CHECK(__bfloat162float(__ushort_as_bfloat16(0x4049)) == 3.140625f);
  const float2 f2 = __bfloat1622float2(__floats2bfloat162_rn(0.5f, 8.0f));
  CHECK(f2.x == 0.5f);
  CHECK(f2.y == 8.0f);
  CHECK(float(__hmul(__float2bfloat16(3.0f), __float2bfloat16(5.0f))) == 15.0f);
  CHECK(__bfloat162int_rn(__float2bfloat16(-3.5f)) == -4);
}

TEST_CASE("math intrinsics") {
  for (float x : {-2.5f, -0.3f, 0.0f, 0.7f, 1.9f}) {
    CHECK(erfinvf(erff(x)) == doctest::Approx(x).epsilon(1e-5));
    CHECK(erfcinvf(erfcf(x)) == doctest::Approx(x).epsilon(1e-5));
    CHECK(normcdfinvf(normcdff(x)) == doctest::Approx(x).epsilon(1e-5));
    CHECK(normcdff(x) == doctest::Approx(0.5 * std::erfc(-x / std::sqrt(2.0))));
    CHECK(rsqrtf(x * x + 1) == doctest::Approx(1 / std::sqrt(x * x + 1)));
    CHECK(sinpif(x) == doctest::Approx(std::sin(M_PI * x)).epsilon(1e-6));
  }
  CHECK(std::erfc(erfcinv(1e-30)) == doctest::Approx(1e-30).epsilon(1e-9));
  CHECK(__saturatef(-1.0f) == 0.0f);
  CHECK(__saturatef(0.25f) == 0.25f);
  CHECK(__saturatef(7.0f) == 1.0f);
  CHECK(__saturatef(NAN) == 0.0f);
  CHECK(__fdividef(1.0f, 4.0f) == 0.25f);
  CHECK(__expf(0.0f) == 1.0f);
  CHECK(__float2int_rn(2.5f) == 2);
  CHECK(__float2int_rn(3.5f) == 4);
  CHECK(__float2int_rz(-3.9f) == -3);
  CHECK(__float2int_rd(-3.1f) == -4);
  CHECK(__float2int_ru(3.1f) == 4);
  CHECK(__float2int_rn(1e20f) == 2147483647);
  CHECK(__float2uint_rn(-5.0f) == 0u);
  CHECK(__float2int_rn(NAN) == 0);
  CHECK(__float_as_uint(1.0f) == 0x3f800000u);
  CHECK(__hiloint2double(__double2hiint(1.5), __double2loint(1.5)) == 1.5);
}

TEST_CASE("integer and bit intrinsics") {
  CHECK(__popc(0xf0f0u) == 8);
  CHECK(__popcll(~0ull) == 64);
  CHECK(__clz(1) == 31);
  CHECK(__clz(0) == 32);
  CHECK(__clzll(1) == 63);
  CHECK(__ffs(0) == 0);
  CHECK(__ffs(8) == 4);
  CHECK(__ffsll(1ll << 40) == 41);
  CHECK(__brev(1u) == 0x80000000u);
  CHECK(__brev(0x12345678u) == 0x1e6a2c48u);
  CHECK(__brevll(1ull) == 1ull << 63);
  CHECK(__byte_perm(0x33221100u, 0x77665544u, 0x5410u) == 0x55441100u);
  CHECK(__byte_perm(0x33221100u, 0x77665544u, 0x0123u) == 0x00112233u);
  CHECK(__funnelshift_l(0x80000000u, 0x1u, 1) == 0x3u);
  CHECK(__funnelshift_r(0x2u, 0x1u, 1) == 0x80000001u);
  CHECK(__funnelshift_lc(0x5u, 0x7u, 40) == 0x5u);
  CHECK(__funnelshift_rc(0x5u, 0x7u, 40) == 0x7u);
  CHECK(__mulhi(1 << 30, 8) == 2);
  CHECK(__umulhi(0xffffffffu, 0xffffffffu) == 0xfffffffeu);
  CHECK(__umul64hi(~0ull, 2ull) == 1ull);
  CHECK(__mul64hi(-1ll, 1ll) == -1ll);
  CHECK(__sad(3, 10, 1u) == 8u);
  CHECK(__hadd(2147483647, 1) == 1073741824);
  CHECK(__rhadd(1, 2) == 2);
  CHECK(__umul24(0x1000001u, 3u) == 3u);
  CHECK(min(3, 5u) == 3u);
  CHECK(max(-1, 5u) == 0xffffffffu);  // mixed signedness compares unsigned, as in CUDA
  CHECK(min(2.0f, 3.0) == 2.0);
  CHECK(max(1ll, 2ll) == 2ll);
  CHECK(min(NAN, 1.0f) == 1.0f);
}

}  // TEST_SUITE
