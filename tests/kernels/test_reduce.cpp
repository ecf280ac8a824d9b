// The CPU sum kernel against a plain loop: runs of every length around the partial-sum lane
// count (full lane groups and a remainder), one output (split across threads) and one per row.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "kernels/reduce.h"

namespace mox {
namespace {

constexpr int kCpu = int(DeviceType::CPU);

template <class T>
void check_row_sums(DType dt, int64_t outer, int64_t K) {
  CAPTURE(outer);
  CAPTURE(K);
  std::mt19937 gen{static_cast<unsigned>(outer * 1000 + K)};
  std::uniform_int_distribution<int> dist(-50, 50);
  std::vector<T> in(static_cast<size_t>(outer * K));
  for (T& v : in) v = T(dist(gen)) / T(4);  // quarters: every partial sum is exact
  std::vector<T> out(static_cast<size_t>(outer));
  reduce_stub.table[kCpu](ReduceOp::sum, dt, out.data(), nullptr, in.data(), outer, K, 1);
  for (int64_t o = 0; o < outer; ++o) {
    T want = 0;
    for (int64_t k = 0; k < K; ++k) want += in[size_t(o * K + k)];
    CHECK(out[size_t(o)] == want);
  }
}

TEST_CASE("reduce kernel: sums of runs of every length match a plain loop") {
  for (int64_t K : {0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 1000, 70001}) {
    check_row_sums<float>(DType::f32, 1, K);
    check_row_sums<double>(DType::f64, 1, K);
    check_row_sums<float>(DType::f32, 3, K);
    check_row_sums<double>(DType::f64, 2, K);
  }
}

}  // namespace
}  // namespace mox
