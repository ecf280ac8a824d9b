// wmma against a plain matrix product for every supported combination: shapes m16n16k16,
// m32n8k16 and m8n32k16; half and bf16 inputs; float and half accumulators (C and D);
// row- and column-major A and B; row- and column-major C and D in memory; padded leading
// dimensions; an elementwise loop over the result fragment; saturation.
#include "kernels/emu/tests/helpers.h"

using namespace emu_test;
namespace wmma = nvcuda::wmma;

namespace {

template <int M, int N, int K, class TI, class TC, class TD, class LA, class LB>
__global__ void wmma_kernel(const TI* A, unsigned lda, const TI* B, unsigned ldb, const TC* C, unsigned ldc,
                            int c_row, TD* D, unsigned ldd, int d_row, int satf) {
  wmma::fragment<wmma::matrix_a, M, N, K, TI, LA> a;
  wmma::fragment<wmma::matrix_b, M, N, K, TI, LB> b;
  wmma::fragment<wmma::accumulator, M, N, K, TC> c;
  wmma::fragment<wmma::accumulator, M, N, K, TD> d;
  wmma::load_matrix_sync(a, A, lda);
  wmma::load_matrix_sync(b, B, ldb);
  wmma::load_matrix_sync(c, C, ldc, c_row ? wmma::mem_row_major : wmma::mem_col_major);
  wmma::fill_fragment(d, TD(0.0f));
  wmma::mma_sync(d, a, b, c, satf != 0);
  const TD scale = satf ? TD(1.0f) : TD(2.0f);
  for (int i = 0; i < d.num_elements; ++i) d.x[i] = d.x[i] * scale;
  wmma::store_matrix_sync(D, d, ldd, d_row ? wmma::mem_row_major : wmma::mem_col_major);
}

// Stores the rows x cols matrix m (row-major values) with the given layout and leading dim.
template <class T>
std::vector<T> store(const std::vector<float>& m, int rows, int cols, bool row_major, unsigned ld) {
  std::vector<T> out(size_t(ld) * size_t(row_major ? rows : cols), T(0.0f));
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      out[row_major ? size_t(r) * ld + size_t(c) : size_t(c) * ld + size_t(r)] = T(m[size_t(r * cols + c)]);
  return out;
}

template <int M, int N, int K, class TI, class TC, class TD, class LA, class LB>
void check_combo() {
  constexpr bool a_row = std::is_same_v<LA, wmma::row_major>, b_row = std::is_same_v<LB, wmma::row_major>;
  std::vector<float> a = random_floats(size_t(M * K), 21), b = random_floats(size_t(K * N), 22),
                     c = random_floats(size_t(M * N), 23);
  for (float& x : a) x = float(TI(x));  // the values the 16-bit types can hold
  for (float& x : b) x = float(TI(x));
  for (float& x : c) x = float(TC(x));
  const unsigned lda = (a_row ? K : M) + 8, ldb = (b_row ? N : K) + 8;
  Buffer<TI> dA(store<TI>(a, M, K, a_row, lda)), dB(store<TI>(b, K, N, b_row, ldb));
  for (int c_row : {0, 1})
    for (int d_row : {0, 1}) {
      INFO("shape ", M, "x", N, "x", K, ", A ", (a_row ? "row" : "col"), ", B ", (b_row ? "row" : "col"),
           ", C ", (c_row ? "row" : "col"), ", D ", (d_row ? "row" : "col"), ", inputs ",
           (std::is_same_v<TI, __half> ? "half" : "bf16"), ", C ", (std::is_same_v<TC, float> ? "float" : "half"),
           ", D ", (std::is_same_v<TD, float> ? "float" : "half"));
      const unsigned ldc = (c_row ? N : M) + 4, ldd = (d_row ? N : M) + 4;
      Buffer<TC> dC(store<TC>(c, M, N, c_row, ldc));
      Buffer<TD> dD(size_t(ldd) * size_t(d_row ? M : N));
      MOX_LAUNCH(1, 32, 0, nullptr, wmma_kernel<M, N, K, TI, TC, TD, LA, LB>)(
          dA.get(), lda, dB.get(), ldb, dC.get(), ldc, c_row, dD.get(), ldd, d_row, 0);
      check(cudaGetLastError());
      const std::vector<TD> got = dD.download();
      const float tol = std::is_same_v<TD, float> ? 1e-4f : 2e-2f;
      for (int r = 0; r < M; ++r)
        for (int col = 0; col < N; ++col) {
          double want = c[size_t(r * N + col)];
          for (int k = 0; k < K; ++k) want += double(a[size_t(r * K + k)]) * b[size_t(k * N + col)];
          want *= 2;
          const float g = float(got[d_row ? size_t(r) * ldd + size_t(col) : size_t(col) * ldd + size_t(r)]);
          if (!(std::fabs(g - want) <= tol * (1 + std::fabs(want)))) {
            FAIL_CHECK("D[" << r << "][" << col << "] = " << g << ", want " << want);
            return;
          }
        }
    }
}

template <int M, int N, int K, class TI, class TC, class TD>
void check_layouts() {
  check_combo<M, N, K, TI, TC, TD, wmma::row_major, wmma::row_major>();
  check_combo<M, N, K, TI, TC, TD, wmma::row_major, wmma::col_major>();
  check_combo<M, N, K, TI, TC, TD, wmma::col_major, wmma::row_major>();
  check_combo<M, N, K, TI, TC, TD, wmma::col_major, wmma::col_major>();
}

template <int M, int N, int K>
void check_shape() {
  check_layouts<M, N, K, __half, float, float>();
  check_layouts<M, N, K, __half, __half, __half>();
  check_layouts<M, N, K, __half, float, __half>();
  check_layouts<M, N, K, __half, __half, float>();
  check_layouts<M, N, K, __nv_bfloat16, float, float>();
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("wmma: every shape and type and layout against a plain matrix product") {
  for_each_config([] {
    check_shape<16, 16, 16>();
    check_shape<32, 8, 16>();
    check_shape<8, 32, 16>();
  });
}

TEST_CASE("wmma: satf clamps to the largest finite value") {
  // Every entry of A*B is 16 * 200 * 200 = 640000, beyond fp16's 65504.
  std::vector<__half> a(256, __half(200.0f)), b(256, __half(200.0f)), c(256, __half(0.0f));
  Buffer<__half> dA(a), dB(b), dC(c), dD(256);
  for (int satf : {0, 1}) {
    MOX_LAUNCH(1, 32, 0, nullptr, wmma_kernel<16, 16, 16, __half, __half, __half, wmma::row_major, wmma::row_major>)(
        dA.get(), 16u, dB.get(), 16u, dC.get(), 16u, 1, dD.get(), 16u, 1, satf);
    check(cudaGetLastError());
    for (__half h : dD.download()) CHECK(satf ? float(h) == 65504.0f : std::isinf(float(h)));
  }
}

}  // TEST_SUITE
