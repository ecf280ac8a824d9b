// Tensor basics: views share storage, contiguous(), expand strides, broadcasting, casts between
// all dtypes, f16/bf16 conversions of known values, PyTorch-style printing, factories, and the
// CPU caching allocator's statistics.
#include <cmath>
#include <limits>
#include <sstream>

#include "core/allocator.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

std::string printed(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

const DType kAllDTypes[] = {DType::f32, DType::f16, DType::bf16, DType::f64,
                            DType::i32, DType::i64, DType::u8,   DType::boolean};

}  // namespace

TEST_CASE("tensor: slice, transpose and select are views that write through") {
  Tensor x = arange(12).reshape({3, 4});
  Tensor s = x.slice(1, 1, 3);
  CHECK(s.sizes() == Shape{3, 2});
  CHECK(s.storage() == x.storage());
  CHECK_FALSE(s.is_contiguous());
  s.copy_(full({3, 2}, -1));
  CHECK(x.tolist() == std::vector<double>{0, -1, -1, 3, 4, -1, -1, 7, 8, -1, -1, 11});

  Tensor t = x.transpose(0, 1);
  CHECK(t.sizes() == Shape{4, 3});
  CHECK(t.strides() == Shape{1, 4});
  t.select(0, 3).copy_(tensor({100, 200, 300}));  // column 3 of x
  CHECK(x.select(1, 3).tolist() == std::vector<double>{100, 200, 300});

  Tensor row = x.select(0, 1);
  row.fill_(5);
  CHECK(x.tolist()[4] == 5);
  CHECK(x.tolist()[7] == 5);
  CHECK(x.version() > 0);

  Tensor stepped = arange(10).slice(0, 1, 10, 3);  // 1, 4, 7
  CHECK(stepped.tolist() == std::vector<double>{1, 4, 7});
  CHECK(stepped.strides() == Shape{3});
}

TEST_CASE("tensor: contiguous copies only when needed") {
  Tensor x = arange(6).reshape({2, 3});
  CHECK(x.is_contiguous());
  CHECK(x.contiguous().is_same(x));
  Tensor t = x.t();
  CHECK_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage() != x.storage());
  CHECK(c.tolist() == std::vector<double>{0, 3, 1, 4, 2, 5});
  CHECK(c.strides() == Shape{2, 1});
}

TEST_CASE("tensor: expand uses stride 0 and broadcasting follows NumPy") {
  Tensor col = arange(3).reshape({3, 1});
  Tensor e = col.expand({2, 3, 4});
  CHECK(e.sizes() == Shape{2, 3, 4});
  CHECK(e.strides() == Shape{0, 1, 0});
  CHECK(e.storage() == col.storage());
  CHECK(e.tolist()[5] == 1);  // [0, 1, 1]
  CHECK(col.expand({3, -1}).sizes() == Shape{3, 1});

  Tensor a = arange(3).reshape({3, 1}), b = arange(4).reshape({1, 4});
  Tensor s = add(a, b);
  CHECK(s.sizes() == Shape{3, 4});
  CHECK(s.tolist() == std::vector<double>{0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5});
  CHECK(broadcast_shapes({5, 1, 3}, {4, 1}, "test") == Shape{5, 4, 3});
  CHECK(broadcast_shapes({}, {2, 2}, "test") == Shape{2, 2});
  CHECK(mul(scalar_tensor(2), arange(3)).tolist() == std::vector<double>{0, 2, 4});
}

TEST_CASE("tensor: casts between all 8 dtypes round-trip representable values") {
  for (DType from : kAllDTypes) {
    for (DType to : kAllDTypes) {
      bool boolean = from == DType::boolean || to == DType::boolean;
      std::vector<double> values = boolean ? std::vector<double>{0, 1, 1, 0}
                                           : std::vector<double>{0, 1, 2, 100, 255, 37};
      Tensor x = from_vector(values, {2, int64_t(values.size() / 2)}, opts(from));
      Tensor y = x.to(to);
      INFO(dtype_name(from), " -> ", dtype_name(to));
      CHECK(y.dtype() == to);
      CHECK(y.to(from).tolist() == values);
    }
  }
  // Non-zero values become true; floats truncate toward zero into integers.
  CHECK(tensor({0, 0.5, -3}).to(DType::boolean).tolist() == std::vector<double>{0, 1, 1});
  CHECK(tensor({2.7, -2.7}).to(DType::i32).tolist() == std::vector<double>{2, -2});
  CHECK(tensor({1e10}, opts(DType::f64)).to(DType::f32).item() == 1e10);
}

TEST_CASE("tensor: f16 conversions of known values") {
  auto bits = [](float f) { return Half(f).bits; };
  CHECK(bits(1.0f) == 0x3c00);
  CHECK(bits(-2.0f) == 0xc000);
  CHECK(bits(65504.0f) == 0x7bff);  // largest finite half
  CHECK(bits(65520.0f) == 0x7c00);  // rounds up to inf
  CHECK(bits(6e-8f) == 0x0001);     // smallest subnormal, 2^-24
  CHECK(bits(2.0f * 5.9604645e-8f) == 0x0002);
  CHECK(bits(1e-9f) == 0x0000);
  // Ties round to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  CHECK(bits(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);
  CHECK(bits(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3c02);
  CHECK(bits(std::numeric_limits<float>::infinity()) == 0x7c00);
  CHECK(bits(-std::numeric_limits<float>::infinity()) == 0xfc00);
  CHECK(std::isnan(float(Half(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(float(Half(0.1f)) == doctest::Approx(0.0999755859375).epsilon(1e-12));
  CHECK(Half::to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(Half::to_float(0x3555) == doctest::Approx(0.33325195));
  // Through tensors.
  std::vector<double> v = from_vector({1, 65504, 6e-8, 70000}, {4}, opts(DType::f16)).tolist();
  CHECK(v[0] == 1);
  CHECK(v[1] == 65504);
  CHECK(v[2] == std::ldexp(1.0, -24));
  CHECK(std::isinf(v[3]));
}

TEST_CASE("tensor: bf16 conversions of known values") {
  auto bits = [](float f) { return BFloat16(f).bits; };
  CHECK(bits(1.0f) == 0x3f80);
  CHECK(bits(-2.0f) == 0xc000);
  CHECK(bits(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);      // tie to even (down)
  CHECK(bits(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3f82);  // tie to even (up)
  CHECK(bits(std::numeric_limits<float>::infinity()) == 0x7f80);
  CHECK(std::isnan(float(BFloat16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(float(BFloat16(3.0e38f)) == doctest::Approx(3.00405527e38).epsilon(1e-6));
  CHECK(std::isinf(float(BFloat16(3.4e38f))));  // rounds past the largest finite bf16
  CHECK(BFloat16::to_float(0x4049) == doctest::Approx(3.140625));
  Tensor t = from_vector({1, 256, 257, 1e-30}, {4}, opts(DType::bf16));
  std::vector<double> v = t.tolist();
  CHECK(v[1] == 256);
  CHECK(v[2] == 256);  // 257 is not representable: 8 significant bits
  CHECK(v[3] == doctest::Approx(1e-30).epsilon(1e-2));
}

TEST_CASE("tensor: printing looks like PyTorch") {
  CHECK(printed(from_vector({1, 2.5}, {1, 2})) == "tensor([[1.0000, 2.5000]])");
  CHECK(printed(from_vector({1, -2.5, 3, 4}, {2, 2})) ==
        "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])");
  CHECK(printed(tensor({1, 2, 3})) == "tensor([1., 2., 3.])");
  CHECK(printed(from_vector({1, -20, 300}, {3}, opts(DType::i64))) == "tensor([  1, -20, 300])");
  CHECK(printed(from_vector({1, 2}, {2}, opts(DType::i32))).rfind("tensor([1, 2], dtype=", 0) == 0);
  CHECK(printed(scalar_tensor(3.5)) == "tensor(3.5000)");
  CHECK(printed(tensor({1, 2}, opts(DType::f32, Device::cpu(), true))) ==
        "tensor([1., 2.], requires_grad=True)");
  std::string b = printed(from_vector({1, 0}, {2}, opts(DType::boolean)));
  CHECK(b.find("True") != std::string::npos);
  CHECK(b.find("False") != std::string::npos);
  CHECK(b.rfind("tensor([", 0) == 0);
  Tensor x = tensor({1, 2}, opts(DType::f32, Device::cpu(), true));
  CHECK(printed(mul(x, 2.0)).find("grad_fn=<") != std::string::npos);
  // Large tensors are summarized.
  CHECK(printed(arange(5000)).find("...") != std::string::npos);
}

TEST_CASE("tensor: item, arange, full, from_vector") {
  CHECK(scalar_tensor(2.5).item() == 2.5);
  CHECK(tensor({7}).item<int>() == 7);
  CHECK(from_vector({4}, {1, 1}).item() == 4);
  CHECK(arange(5).tolist() == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(arange(1, 2, 0.25).tolist() == std::vector<double>{1, 1.25, 1.5, 1.75});
  CHECK(arange(5, 0, -2).tolist() == std::vector<double>{5, 3, 1});
  CHECK(arange(3, 3).numel() == 0);
  CHECK(arange(4, opts(DType::i32)).dtype() == DType::i32);
  Tensor f = full({2, 3}, 7, opts(DType::i64));
  CHECK(f.dtype() == DType::i64);
  CHECK(f.tolist() == std::vector<double>(6, 7));
  Tensor v = from_vector({1, 2, 3, 4, 5, 6}, {3, 2}, opts(DType::f64));
  CHECK(v.sizes() == Shape{3, 2});
  CHECK(v.strides() == Shape{2, 1});
  CHECK(v.select(0, 2).tolist() == std::vector<double>{5, 6});
  CHECK(zeros({0, 3}).numel() == 0);
  CHECK(ones({}).dim() == 0);
}

TEST_CASE("allocator: current and peak bytes follow a tensor, freed blocks are reused") {
  const Device cpu = Device::cpu();
  MemoryStats before = memory_stats(cpu);
  int64_t nbytes = 0;
  {
    Tensor t = empty({1024});  // 4096 bytes: a whole number of 64-byte units
    nbytes = t.nbytes();
    MemoryStats during = memory_stats(cpu);
    CHECK(during.current_bytes - before.current_bytes == nbytes);
    CHECK(during.peak_bytes >= during.current_bytes);
    CHECK(reinterpret_cast<uintptr_t>(t.raw_data()) % 64 == 0);
  }
  CHECK(memory_stats(cpu).current_bytes == before.current_bytes);

  reset_peak_memory(cpu);
  int64_t base = memory_stats(cpu).current_bytes;
  { Tensor big = empty({1 << 20}); }  // 4 MiB, released at once
  MemoryStats after = memory_stats(cpu);
  CHECK(after.current_bytes == base);
  CHECK(after.peak_bytes >= base + (int64_t(4) << 20));
  reset_peak_memory(cpu);
  CHECK(memory_stats(cpu).peak_bytes == base);

  // An odd size no other test uses: the second allocation comes from the free list.
  const Shape odd{777 * 1024};
  { Tensor a = empty(odd); }
  MemoryStats s1 = memory_stats(cpu);
  CHECK(s1.cached_bytes >= 777 * 4096);
  { Tensor b = empty(odd); }
  MemoryStats s2 = memory_stats(cpu);
  CHECK(s2.system_allocs == s1.system_allocs);
  CHECK(s2.cached_bytes == s1.cached_bytes);
}

TEST_CASE("allocator: a cached block of up to twice the size serves a request and goes back to its list") {
  const Device cpu = Device::cpu();
  const int64_t mib = int64_t(1) << 20;
  empty_cache(cpu);
  { Tensor a = empty({3 * mib / 4}); }  // 3 MiB, now cached
  MemoryStats s0 = memory_stats(cpu);
  CHECK(s0.cached_bytes == 3 * mib);
  {
    Tensor b = empty({2 * mib / 4});  // 2 MiB: the 3 MiB block serves it, no system call
    MemoryStats s = memory_stats(cpu);
    CHECK(s.system_allocs == s0.system_allocs);
    CHECK(s.current_bytes - s0.current_bytes == 3 * mib);
    CHECK(s.cached_bytes == 0);
  }
  CHECK(memory_stats(cpu).cached_bytes == 3 * mib);
  {
    Tensor c = empty({3 * mib / 4});  // the block went back to its own size: an exact hit
    CHECK(memory_stats(cpu).system_allocs == s0.system_allocs);
  }
  {
    Tensor d = empty({mib / 4});  // 1 MiB: less than half the cached block, from the system
    CHECK(memory_stats(cpu).system_allocs == s0.system_allocs + 1);
    CHECK(memory_stats(cpu).cached_bytes == 3 * mib);
  }
  empty_cache(cpu);
}

// Sums over dims that are not adjacent reduce run by run; the result is the sum over the same
// dims moved together (integers: exact).
TEST_CASE("reductions: sums over dims that are not adjacent match the sum over the dims moved together") {
  Tensor x = arange(2 * 3 * 4 * 5 * 6).reshape({2, 3, 4, 5, 6});
  Tensor want = x.permute({1, 3, 0, 2, 4}).contiguous().reshape({3, 5, 48}).sum({2});
  CHECK(sum(x, {0, 2, 4}).sizes() == Shape{3, 5});
  CHECK(sum(x, {0, 2, 4}).tolist() == want.tolist());
  CHECK(sum(x, {4, 0, 2}, true).sizes() == Shape{1, 3, 1, 5, 1});
  CHECK(sum(x, {4, 0, 2}, true).tolist() == want.tolist());
  Tensor xt = x.to(DType::f32).transpose(1, 3);  // strided input
  CHECK(sum(xt, {0, 2, 4}).tolist() == want.t().contiguous().tolist());
}

}  // namespace mox::test
