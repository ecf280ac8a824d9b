// nvcuda::wmma: warp-level matrix fragments for half and bf16 inputs with float or half
// accumulators, shapes m16n16k16, m32n8k16 and m8n32k16, row- and column-major. Each lane
// holds rows*cols/32 elements of the fragment's matrix: element e of lane l is entry
// (e*32 + l) of the matrix in row-major order. Real GPUs use another, unspecified mapping, so
// kernels must not depend on which element is which (elementwise loops over x[] are fine).
// load_matrix_sync and store_matrix_sync move each lane's own elements and are warp
// collectives over all 32 lanes; mma_sync gathers the fragments of all lanes, multiplies in
// float (products exact, sums in k order) and scatters the result.
#pragma once

#include <type_traits>

#include "kernels/emu/half.h"
#include "kernels/emu/sync.h"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

namespace emu {

template <class Use, int M, int N, int K>
struct dims;
template <int M, int N, int K>
struct dims<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct dims<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct dims<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};

template <int M, int N, int K>
inline constexpr bool supported_shape =
    (M == 16 && N == 16 && K == 16) || (M == 32 && N == 8 && K == 16) || (M == 8 && N == 32 && K == 16);

template <class Use, class T, class Layout>
inline constexpr bool supported_type =
    std::is_same_v<Use, accumulator>
        ? (std::is_same_v<T, float> || std::is_same_v<T, __half>) && std::is_void_v<Layout>
        : (std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>) &&
              (std::is_same_v<Layout, row_major> || std::is_same_v<Layout, col_major>);

inline unsigned lane() {
  return mox::emu::detail::kernel_worker("nvcuda::wmma").current()->lane;
}

inline constexpr mox::emu::detail::Op op_load{"wmma::load_matrix_sync", mox::emu::detail::OpKind::Warp,
                                              false, 0, nullptr};
inline constexpr mox::emu::detail::Op op_store{"wmma::store_matrix_sync", mox::emu::detail::OpKind::Warp,
                                               false, 0, nullptr};

}  // namespace emu

template <class Use, int m, int n, int k, class T, class Layout = void>
class fragment {
  static_assert(emu::supported_shape<m, n, k>,
                "emulated wmma supports m16n16k16, m32n8k16 and m8n32k16");
  static_assert(emu::supported_type<Use, T, Layout>,
                "emulated wmma supports half/bf16 matrix_a/b fragments with row_major/col_major "
                "layout and float/half accumulators without layout");

 public:
  using element_type = T;
  using storage_element_type = T;
  using use = Use;
  using layout = Layout;
  static constexpr int rows = emu::dims<Use, m, n, k>::rows;
  static constexpr int cols = emu::dims<Use, m, n, k>::cols;
  enum { num_elements = rows * cols / 32 };
  T x[num_elements];
};

template <class Use, int m, int n, int k, class T, class L>
void fill_fragment(fragment<Use, m, n, k, T, L>& f, const std::type_identity_t<T>& v) {
  for (int e = 0; e < f.num_elements; ++e) f.x[e] = v;
}

namespace emu {
// Element e of this lane's fragment F sits at offset(e) in memory with leading dimension ldm.
template <class F>
size_t offset(int e, unsigned lane, unsigned ldm, bool row) {
  const unsigned i = unsigned(e) * 32 + lane, r = i / F::cols, c = i % F::cols;
  return row ? size_t(r) * ldm + c : size_t(c) * ldm + r;
}
}  // namespace emu

template <class Use, int m, int n, int k, class T, class L>
void load_matrix_sync(fragment<Use, m, n, k, T, L>& f, const T* p, unsigned ldm,
                      mox_emu_loc loc = mox_emu_loc::current()) {
  static_assert(!std::is_same_v<Use, accumulator>, "accumulator loads take a layout_t");
  const unsigned lane = emu::lane();
  for (int e = 0; e < f.num_elements; ++e)
    f.x[e] = p[emu::offset<fragment<Use, m, n, k, T, L>>(e, lane, ldm, std::is_same_v<L, row_major>)];
  mox::emu::detail::collective(emu::op_load, 0xffffffffu, 0, 0, 32, loc);
}

template <int m, int n, int k, class T>
void load_matrix_sync(fragment<accumulator, m, n, k, T>& f, const T* p, unsigned ldm, layout_t layout,
                      mox_emu_loc loc = mox_emu_loc::current()) {
  const unsigned lane = emu::lane();
  for (int e = 0; e < f.num_elements; ++e)
    f.x[e] = p[emu::offset<fragment<accumulator, m, n, k, T>>(e, lane, ldm, layout == mem_row_major)];
  mox::emu::detail::collective(emu::op_load, 0xffffffffu, 0, 0, 32, loc);
}

template <int m, int n, int k, class T>
void store_matrix_sync(T* p, const fragment<accumulator, m, n, k, T>& f, unsigned ldm, layout_t layout,
                       mox_emu_loc loc = mox_emu_loc::current()) {
  const unsigned lane = emu::lane();
  for (int e = 0; e < f.num_elements; ++e)
    p[emu::offset<fragment<accumulator, m, n, k, T>>(e, lane, ldm, layout == mem_row_major)] = f.x[e];
  mox::emu::detail::collective(emu::op_store, 0xffffffffu, 0, 0, 32, loc);
}

namespace emu {

template <class T>
T saturate(float v) {
  const float hi = std::is_same_v<T, float> ? 3.40282347e38f : 65504.0f;
  if (v != v) return T(0.0f);
  return T(v > hi ? hi : v < -hi ? -hi : v);
}

// D = A * B + C over the fragments of all 32 lanes; ptr = {d, a, b, c}, arg = satf.
template <class FD, class FA, class FB, class FC>
void mma_compute(mox::emu::detail::Fiber* const* lanes, unsigned) {
  constexpr int M = FA::rows, K = FA::cols, N = FB::cols;
  float a[M * K], b[K * N], c[M * N];
  for (unsigned l = 0; l < 32; ++l) {
    const auto& r = lanes[l]->req;
    for (int e = 0; e < FA::num_elements; ++e) a[e * 32 + l] = float(static_cast<const FA*>(r.ptr[1])->x[e]);
    for (int e = 0; e < FB::num_elements; ++e) b[e * 32 + l] = float(static_cast<const FB*>(r.ptr[2])->x[e]);
    for (int e = 0; e < FC::num_elements; ++e) c[e * 32 + l] = float(static_cast<const FC*>(r.ptr[3])->x[e]);
  }
  const bool satf = lanes[0]->req.arg != 0;
  using TD = typename FD::element_type;
  for (unsigned l = 0; l < 32; ++l) {
    FD& d = *static_cast<FD*>(const_cast<void*>(lanes[l]->req.ptr[0]));
    for (int e = 0; e < FD::num_elements; ++e) {
      const int i = e * 32 + int(l), row = i / N, col = i % N;
      float acc = c[i];
      for (int kk = 0; kk < K; ++kk) acc += a[row * K + kk] * b[kk * N + col];
      d.x[e] = satf ? saturate<TD>(acc) : TD(acc);
    }
  }
}

template <class FD, class FA, class FB, class FC>
inline constexpr mox::emu::detail::Op op_mma{"wmma::mma_sync", mox::emu::detail::OpKind::Warp, false,
                                             0, &mma_compute<FD, FA, FB, FC>};

}  // namespace emu

template <int m, int n, int k, class TD, class TA, class LA, class TB, class LB, class TC>
void mma_sync(fragment<accumulator, m, n, k, TD>& d, const fragment<matrix_a, m, n, k, TA, LA>& a,
              const fragment<matrix_b, m, n, k, TB, LB>& b, const fragment<accumulator, m, n, k, TC>& c,
              bool satf = false, mox_emu_loc loc = mox_emu_loc::current()) {
  static_assert(std::is_same_v<TA, TB>, "wmma::mma_sync: A and B fragments must have the same type");
  static_assert(std::is_same_v<TA, __half> || (std::is_same_v<TD, float> && std::is_same_v<TC, float>),
                "wmma::mma_sync: bf16 inputs need float accumulators");
  using FD = fragment<accumulator, m, n, k, TD>;
  using FA = fragment<matrix_a, m, n, k, TA, LA>;
  using FB = fragment<matrix_b, m, n, k, TB, LB>;
  using FC = fragment<accumulator, m, n, k, TC>;
  mox::emu::detail::collective(emu::op_mma<FD, FA, FB, FC>, 0xffffffffu, 0, satf, 32, loc, &d, &a, &b, &c);
}

}  // namespace nvcuda::wmma
