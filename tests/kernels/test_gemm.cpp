// The CPU GEMM kernel against a naive triple loop: odd sizes that leave partial tiles,
// transposed and general-strided operands, broadcast and batched operands, alpha/beta, f32
// and f64, on every micro-kernel family the processor supports.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/linalg.h"

namespace mox {
namespace {

struct Layout {
  bool trans_a = false, trans_b = false, strided_c = false;
  bool broadcast_b = false;  // batch stride 0 for B
};

template <class T>
std::vector<T> random_values(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<T> v(n);
  for (auto& x : v) x = T(dist(gen));
  return v;
}

// Runs one product through the registered kernel and through the naive loop, compares.
template <class T>
void check_gemm(int64_t batch, int64_t m, int64_t n, int64_t k, double alpha, double beta, Layout l) {
  CAPTURE(batch); CAPTURE(m); CAPTURE(n); CAPTURE(k); CAPTURE(alpha); CAPTURE(beta);
  CAPTURE(l.trans_a); CAPTURE(l.trans_b); CAPTURE(l.strided_c); CAPTURE(l.broadcast_b);
  GemmDesc d;
  d.dtype = std::is_same_v<T, float> ? DType::f32 : DType::f64;
  d.batch = batch; d.m = m; d.n = n; d.k = k; d.alpha = alpha; d.beta = beta;
  // A stored as [batch][m][k] or transposed [batch][k][m]; same for B.
  std::vector<T> a = random_values<T>(size_t(batch * m * k), 1);
  std::vector<T> b = random_values<T>(size_t((l.broadcast_b ? 1 : batch) * k * n), 2);
  d.a = a.data();
  d.a_bs = m * k;
  d.a_rs = l.trans_a ? 1 : k;
  d.a_cs = l.trans_a ? m : 1;
  d.b = b.data();
  d.b_bs = l.broadcast_b ? 0 : k * n;
  d.b_rs = l.trans_b ? 1 : n;
  d.b_cs = l.trans_b ? k : 1;
  // C: dense [batch][m][n], or every other element of rows twice as long.
  int64_t cs = l.strided_c ? 2 : 1;
  std::vector<T> c = random_values<T>(size_t(batch * m * n * cs), 3);
  if (beta == 0) std::fill(c.begin(), c.end(), T(NAN));  // must not leak into the result
  std::vector<T> c0 = c;
  d.c = c.data();
  d.c_bs = m * n * cs;
  d.c_rs = n * cs;
  d.c_cs = cs;
  gemm_stub.table[int(DeviceType::CPU)](d);

  double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  std::string bad;
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p)
          acc += double(a[bi * d.a_bs + i * d.a_rs + p * d.a_cs]) *
                 double(b[bi * d.b_bs + p * d.b_rs + j * d.b_cs]);
        int64_t ci = bi * d.c_bs + i * d.c_rs + j * d.c_cs;
        double want = alpha * acc + (beta == 0 ? 0.0 : beta * double(c0[ci]));
        double got = double(c[ci]);
        if (bad.empty() && !(std::fabs(got - want) <= tol * (1 + std::fabs(want)) * std::sqrt(double(k) + 1)))
          bad = "C[" + std::to_string(bi) + "][" + std::to_string(i) + "][" + std::to_string(j) +
                "] = " + std::to_string(got) + ", want " + std::to_string(want);
      }
  // Elements between strided C's columns stay untouched.
  if (l.strided_c)
    for (size_t x = 1; x < c.size() && bad.empty(); x += 2)
      if (!(c[x] == c0[x] || (std::isnan(c[x]) && std::isnan(c0[x]))))
        bad = "gap element " + std::to_string(x) + " of C was written";
  CHECK_MESSAGE(bad.empty(), bad);
}

template <class T>
void check_all_shapes() {
  struct Size { int64_t batch, m, n, k; };
  for (Size s : {Size{1, 1, 1, 1}, Size{1, 17, 33, 9}, Size{1, 33, 17, 70}, Size{1, 5, 100, 3},
                 Size{1, 130, 7, 300}, Size{1, 64, 64, 64}, Size{3, 13, 40, 21}, Size{1, 1, 65, 300},
                 Size{1, 200, 1, 17}, Size{1, 3, 4, 0}})
    for (int t = 0; t < 4; ++t)
      check_gemm<T>(s.batch, s.m, s.n, s.k, 1, 0, Layout{bool(t & 1), bool(t & 2), false, false});
  check_gemm<T>(1, 17, 33, 9, 0.5, 2, Layout{false, false, true, false});
  check_gemm<T>(2, 19, 35, 11, -1.5, 1, Layout{true, false, false, false});
  check_gemm<T>(4, 12, 32, 16, 1, 0, Layout{false, true, false, true});
  check_gemm<T>(5, 9, 10, 11, 2, 0.5, Layout{true, true, true, true});
  check_gemm<T>(2, 300, 280, 270, 1, 0, Layout{});  // several blocks in every dimension
  check_gemm<T>(1, 520, 70, 600, 1, 1, Layout{true, false, false, false});
  check_gemm<T>(2, 4, 5, 6, 0, 3, Layout{});  // alpha 0 only scales C
  check_gemm<T>(8, 40, 50, 60, 1, 0, Layout{false, true, false, true});  // threads over the batch
  check_gemm<T>(1, 5, 3000, 200, 1, 0.5, Layout{});  // short M: threads split N; N > one block
}

// Runs body once per micro-kernel family the processor has, restoring the default after.
template <class Body>
void for_each_isa(Body body) {
  cpu::GemmIsa saved = cpu::gemm_isa();
  for (cpu::GemmIsa isa : {cpu::GemmIsa::scalar, cpu::GemmIsa::avx2, cpu::GemmIsa::avx512}) {
    if (!cpu::gemm_isa_supported(isa)) continue;
    CAPTURE(std::string(cpu::gemm_isa_name(isa)));
    cpu::set_gemm_isa(isa);
    body();
  }
  cpu::set_gemm_isa(saved);
}

TEST_CASE("gemm kernel: f32 matches a naive triple loop") { for_each_isa(check_all_shapes<float>); }

TEST_CASE("gemm kernel: f64 matches a naive triple loop") { for_each_isa(check_all_shapes<double>); }

TEST_CASE("gemm kernel: rejects integer dtypes") {
  GemmDesc d;
  d.dtype = DType::i32;
  d.m = d.n = d.k = 1;
  CHECK_THROWS(gemm_stub.table[int(DeviceType::CPU)](d));
}

}  // namespace
}  // namespace mox
