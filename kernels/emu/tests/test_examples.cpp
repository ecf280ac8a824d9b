// The six demonstration kernels (compiled from their .cu sources by g++) against their CPU
// references, under forward, reverse and random order with 1 and 2 workers.
#include "kernels/emu/examples/examples.h"
#include "kernels/emu/tests/helpers.h"

using namespace emu_test;
namespace ex = mox::emu::examples;

TEST_SUITE("emu") {

TEST_CASE("example: float4 grid-stride axpby") {
  for (int n : {1, 7, 1000, 65536 + 3}) {
    INFO("n = ", n);
    const std::vector<float> x = random_floats(size_t(n), 1), y0 = random_floats(size_t(n), 2);
    std::vector<float> want = y0;
    ex::axpby_ref(n, 1.5f, x.data(), -0.25f, want.data());
    for_each_config([&] {
      Buffer<float> dx(x), dy(y0);
      ex::axpby(n, 1.5f, dx.get(), -0.25f, dy.get(), nullptr);
      check_close(dy.download(), want, 1e-6f, 1e-6f);
    });
  }
}

TEST_CASE("example: block reduction with shared memory and warp shuffles") {
  for (int n : {1, 31, 257, 100000}) {
    INFO("n = ", n);
    const std::vector<float> x = random_floats(size_t(n), 3);
    const double want = ex::sum_ref(n, x.data());
    for_each_config([&] {
      Buffer<float> dx(x), partials(size_t(ex::sum_blocks(n))), out(1);
      ex::sum(n, dx.get(), partials.get(), out.get(), nullptr);
      CHECK(out.download()[0] == doctest::Approx(want).epsilon(1e-4).scale(std::sqrt(double(n))));
    });
  }
}

TEST_CASE("example: register-blocked SGEMM with ragged sizes") {
  struct Size {
    int M, N, K;
  };
  for (Size s : {Size{1, 1, 1}, Size{37, 29, 13}, Size{64, 64, 64}, Size{70, 130, 33}}) {
    for (int tile : {32, 64}) {
      INFO("M N K = ", s.M, " ", s.N, " ", s.K, ", tile ", tile);
      const int lda = s.K + 3, ldb = s.N + 1, ldc = s.N + 2;
      const std::vector<float> A = random_floats(size_t(s.M) * lda, 4);
      const std::vector<float> B = random_floats(size_t(s.K) * ldb, 5);
      const std::vector<float> C0 = random_floats(size_t(s.M) * ldc, 6);
      std::vector<float> want = C0;
      ex::sgemm_ref(s.M, s.N, s.K, 0.5f, A.data(), lda, B.data(), ldb, 2.0f, want.data(), ldc);
      for_each_config([&] {
        Buffer<float> dA(A), dB(B), dC(C0);
        ex::sgemm(tile, s.M, s.N, s.K, 0.5f, dA.get(), lda, dB.get(), ldb, 2.0f, dC.get(), ldc, nullptr);
        check_close(dC.download(), want, 1e-5f, 1e-5f);
      });
    }
  }
}

template <class T>
void wmma_gemm_case(int M, int N, int K) {
  INFO("M N K = ", M, " ", N, " ", K);
  const std::vector<float> a = random_floats(size_t(M) * K, 7), b = random_floats(size_t(K) * N, 8);
  std::vector<T> A(a.begin(), a.end()), B(b.begin(), b.end());
  const std::vector<float> ar(A.begin(), A.end()), br(B.begin(), B.end());  // rounded inputs
  std::vector<float> want(size_t(M) * N);
  ex::wmma_gemm_ref(M, N, K, ar.data(), br.data(), want.data());
  for_each_config([&] {
    Buffer<T> dA(A), dB(B);
    Buffer<float> dC(size_t(M) * N);
    ex::wmma_gemm(M, N, K, dA.get(), dB.get(), dC.get(), nullptr);
    check_close(dC.download(), want, 1e-4f, 1e-4f);
  });
}

TEST_CASE("example: fp16 and bf16 WMMA GEMM") {
  wmma_gemm_case<__half>(32, 32, 16);
  wmma_gemm_case<__half>(45, 70, 37);
  wmma_gemm_case<__nv_bfloat16>(32, 64, 48);
  wmma_gemm_case<__nv_bfloat16>(17, 33, 20);
}

TEST_CASE("example: softmax with dynamic shared memory") {
  struct Size {
    int rows, cols;
  };
  for (Size s : {Size{1, 1}, Size{5, 33}, Size{13, 300}}) {
    INFO("rows cols = ", s.rows, " ", s.cols);
    const std::vector<float> x = random_floats(size_t(s.rows) * s.cols, 9, -5.0f, 5.0f);
    std::vector<float> want(x.size());
    ex::softmax_ref(s.rows, s.cols, x.data(), want.data());
    for_each_config([&] {
      Buffer<float> dx(x), dy(x.size());
      ex::softmax(s.rows, s.cols, dx.get(), dy.get(), nullptr);
      check_close(dy.download(), want, 1e-5f, 1e-7f);
    });
  }
}

TEST_CASE("example: tiled transpose") {
  struct Size {
    int rows, cols;
  };
  for (Size s : {Size{1, 1}, Size{32, 32}, Size{33, 70}, Size{100, 7}}) {
    INFO("rows cols = ", s.rows, " ", s.cols);
    const std::vector<float> x = random_floats(size_t(s.rows) * s.cols, 10);
    std::vector<float> want(x.size());
    ex::transpose_ref(s.rows, s.cols, x.data(), want.data());
    for_each_config([&] {
      Buffer<float> dx(x), dy(x.size());
      ex::transpose(s.rows, s.cols, dx.get(), dy.get(), nullptr);
      CHECK(dy.download() == want);
    });
  }
}

}  // TEST_SUITE
