// Block barriers and warp collectives. Every call stops the calling fiber with a request; the
// scheduler answers it once all participants have arrived (all live threads of the block for
// a barrier, the lanes the mask names for a warp collective). Each call site is remembered,
// so divergent barriers are reported with their lines. Shuffle results follow PTX shfl.sync
// exactly (segments of `width` lanes, out-of-range sources read the caller's own value); a
// source lane outside the mask reads all-ones bits (NaN, -1): undefined on a GPU.
#pragma once

#include <cstring>
#include <source_location>
#include <type_traits>

#include "kernels/emu/scheduler.h"

namespace mox::emu::detail {

[[noreturn]] inline void outside_kernel(const char* what) {
  std::fprintf(stderr, "mox-emu: %s called outside a kernel\n", what);
  std::abort();
}

inline Worker& kernel_worker(const char* what) {
  Worker* w = tls_worker;
  if (!w || !w->current()) outside_kernel(what);
  return *w;
}

inline uint64_t barrier(const Op& op, uint64_t pred, const std::source_location& loc) {
  TsanIgnore ignore;
  Worker& w = kernel_worker(op.name);
  Fiber& f = *w.current();
  f.req.op = &op;
  f.req.loc = loc;
  f.req.in = pred;
  f.wait = Wait::Barrier;
  const void* sync = w.barrier_sync();
  tsan_release(sync);
  w.leave(f);
  tsan_acquire(sync);
  return f.req.out;
}

inline uint64_t collective(const Op& op, unsigned mask, uint64_t in, int arg, int width,
                           const std::source_location& loc, const void* p0 = nullptr,
                           const void* p1 = nullptr, const void* p2 = nullptr,
                           const void* p3 = nullptr) {
  TsanIgnore ignore;
  Worker& w = kernel_worker(op.name);
  Fiber& f = *w.current();
  Request& r = f.req;
  r.op = &op;
  r.loc = loc;
  r.mask = mask;
  r.in = in;
  r.arg = arg;
  r.width = width;
  r.ptr[0] = p0;
  r.ptr[1] = p1;
  r.ptr[2] = p2;
  r.ptr[3] = p3;
  f.wait = op.kind == OpKind::Active ? Wait::Active : Wait::Warp;
  const void* sync = op.syncs_memory ? w.warp_sync(f, op, mask) : nullptr;
  if (sync) tsan_release(sync);
  w.leave(f);
  if (sync) tsan_acquire(sync);
  return r.out;
}

template <class T>
inline constexpr bool shuffleable = std::is_trivially_copyable_v<T> && sizeof(T) <= 8;

template <class T>
uint64_t to_bits(const T& v) {
  static_assert(shuffleable<T>, "warp collectives move trivially copyable values of up to 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

constexpr uint64_t kPoison = ~uint64_t(0);

#define MOX_EMU_FOR_LANES(lane, mask) \
  for (unsigned m_ = (mask), lane = 0; m_ && ((lane = unsigned(__builtin_ctz(m_))), true); m_ &= m_ - 1)

enum class Shfl { Idx, Up, Down, Xor };

// PTX shfl.sync with c = ((32 - width) << 8) | (up ? 0 : 31).
template <Shfl M>
void shfl_compute(Fiber* const* lanes, unsigned mask) {
  MOX_EMU_FOR_LANES(lane, mask) {
    Request& r = lanes[lane]->req;
    const int b = r.arg & 31, segmask = 32 - r.width, l = int(lane);
    const int max_lane = (l & segmask) | ((M == Shfl::Up ? 0 : 31) & ~segmask);
    int j = l;
    bool ok = true;
    switch (M) {
      case Shfl::Up: j = l - b, ok = j >= max_lane; break;
      case Shfl::Down: j = l + b, ok = j <= max_lane; break;
      case Shfl::Xor: j = l ^ b, ok = j <= max_lane; break;
      case Shfl::Idx: j = (l & segmask) | (b & ~segmask), ok = j <= max_lane; break;
    }
    if (!ok) j = l;
    r.out = (mask >> j & 1) ? lanes[j]->req.in : kPoison;
  }
}

inline unsigned ballot_of(Fiber* const* lanes, unsigned mask) {
  unsigned b = 0;
  MOX_EMU_FOR_LANES(lane, mask) if (lanes[lane]->req.in) b |= 1u << lane;
  return b;
}
inline void set_all(Fiber* const* lanes, unsigned mask, uint64_t v) {
  MOX_EMU_FOR_LANES(lane, mask) lanes[lane]->req.out = v;
}
inline void ballot_compute(Fiber* const* l, unsigned m) { set_all(l, m, ballot_of(l, m)); }
inline void any_compute(Fiber* const* l, unsigned m) { set_all(l, m, ballot_of(l, m) != 0); }
inline void all_compute(Fiber* const* l, unsigned m) { set_all(l, m, ballot_of(l, m) == m); }
inline void uni_compute(Fiber* const* l, unsigned m) {
  const unsigned b = ballot_of(l, m);
  set_all(l, m, b == 0 || b == m);
}
inline void match_any_compute(Fiber* const* lanes, unsigned mask) {
  MOX_EMU_FOR_LANES(lane, mask) {
    unsigned same = 0;
    MOX_EMU_FOR_LANES(other, mask) if (lanes[other]->req.in == lanes[lane]->req.in) same |= 1u << other;
    lanes[lane]->req.out = same;
  }
}
inline void match_all_compute(Fiber* const* lanes, unsigned mask) {
  const uint64_t v = lanes[__builtin_ctz(mask)]->req.in;
  bool all = true;
  MOX_EMU_FOR_LANES(lane, mask) all = all && lanes[lane]->req.in == v;
  set_all(lanes, mask, all ? mask : 0);
}
template <class T, class F>
void reduce_compute(Fiber* const* lanes, unsigned mask) {
  const unsigned first = unsigned(__builtin_ctz(mask));
  T acc = from_bits<T>(lanes[first]->req.in);
  MOX_EMU_FOR_LANES(lane, mask & (mask - 1)) acc = F{}(acc, from_bits<T>(lanes[lane]->req.in));
  set_all(lanes, mask, to_bits(acc));
}

struct Add {
  template <class T> T operator()(T a, T b) const { return T(a + b); }
};
struct Min {
  template <class T> T operator()(T a, T b) const { return b < a ? b : a; }
};
struct Max {
  template <class T> T operator()(T a, T b) const { return a < b ? b : a; }
};
struct And {
  unsigned operator()(unsigned a, unsigned b) const { return a & b; }
};
struct Or {
  unsigned operator()(unsigned a, unsigned b) const { return a | b; }
};
struct Xor {
  unsigned operator()(unsigned a, unsigned b) const { return a ^ b; }
};

inline constexpr Op op_syncthreads{"__syncthreads", OpKind::Barrier, true, 0, nullptr};
inline constexpr Op op_syncthreads_count{"__syncthreads_count", OpKind::Barrier, true, 1, nullptr};
inline constexpr Op op_syncthreads_and{"__syncthreads_and", OpKind::Barrier, true, 2, nullptr};
inline constexpr Op op_syncthreads_or{"__syncthreads_or", OpKind::Barrier, true, 3, nullptr};
inline constexpr Op op_syncwarp{"__syncwarp", OpKind::Warp, true, 0, nullptr};
inline constexpr Op op_activemask{"__activemask", OpKind::Active, false, 0, nullptr};
inline constexpr Op op_shfl{"__shfl_sync", OpKind::Warp, false, 0, &shfl_compute<Shfl::Idx>};
inline constexpr Op op_shfl_up{"__shfl_up_sync", OpKind::Warp, false, 0, &shfl_compute<Shfl::Up>};
inline constexpr Op op_shfl_down{"__shfl_down_sync", OpKind::Warp, false, 0, &shfl_compute<Shfl::Down>};
inline constexpr Op op_shfl_xor{"__shfl_xor_sync", OpKind::Warp, false, 0, &shfl_compute<Shfl::Xor>};
inline constexpr Op op_ballot{"__ballot_sync", OpKind::Warp, false, 0, &ballot_compute};
inline constexpr Op op_any{"__any_sync", OpKind::Warp, false, 0, &any_compute};
inline constexpr Op op_all{"__all_sync", OpKind::Warp, false, 0, &all_compute};
inline constexpr Op op_uni{"__uni_sync", OpKind::Warp, false, 0, &uni_compute};
inline constexpr Op op_match_any{"__match_any_sync", OpKind::Warp, false, 0, &match_any_compute};
inline constexpr Op op_match_all{"__match_all_sync", OpKind::Warp, false, 0, &match_all_compute};

}  // namespace mox::emu::detail

using mox_emu_loc = std::source_location;

// ---- block barriers

inline void __syncthreads(mox_emu_loc loc = mox_emu_loc::current()) {
  mox::emu::detail::barrier(mox::emu::detail::op_syncthreads, 0, loc);
}
inline int __syncthreads_count(int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::barrier(mox::emu::detail::op_syncthreads_count, pred != 0, loc));
}
inline int __syncthreads_and(int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::barrier(mox::emu::detail::op_syncthreads_and, pred != 0, loc));
}
inline int __syncthreads_or(int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::barrier(mox::emu::detail::op_syncthreads_or, pred != 0, loc));
}

// ---- warp collectives

inline void __syncwarp(unsigned mask = 0xffffffffu, mox_emu_loc loc = mox_emu_loc::current()) {
  mox::emu::detail::collective(mox::emu::detail::op_syncwarp, mask, 0, 0, 32, loc);
}

// The lanes of the warp that reach this call site together: the ones that call it before any
// other lane of the warp can go on.
inline unsigned __activemask(mox_emu_loc loc = mox_emu_loc::current()) {
  return unsigned(mox::emu::detail::collective(mox::emu::detail::op_activemask, 0, 0, 0, 32, loc));
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  return d::from_bits<T>(d::collective(d::op_shfl, mask, d::to_bits(var), src_lane, width, loc));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  return d::from_bits<T>(d::collective(d::op_shfl_up, mask, d::to_bits(var), int(delta), width, loc));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  return d::from_bits<T>(d::collective(d::op_shfl_down, mask, d::to_bits(var), int(delta), width, loc));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  return d::from_bits<T>(d::collective(d::op_shfl_xor, mask, d::to_bits(var), lane_mask, width, loc));
}

inline unsigned __ballot_sync(unsigned mask, int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return unsigned(mox::emu::detail::collective(mox::emu::detail::op_ballot, mask, pred != 0, 0, 32, loc));
}
inline int __any_sync(unsigned mask, int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::collective(mox::emu::detail::op_any, mask, pred != 0, 0, 32, loc));
}
inline int __all_sync(unsigned mask, int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::collective(mox::emu::detail::op_all, mask, pred != 0, 0, 32, loc));
}
inline int __uni_sync(unsigned mask, int pred, mox_emu_loc loc = mox_emu_loc::current()) {
  return int(mox::emu::detail::collective(mox::emu::detail::op_uni, mask, pred != 0, 0, 32, loc));
}

template <class T>
unsigned __match_any_sync(unsigned mask, T value, mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  return unsigned(d::collective(d::op_match_any, mask, d::to_bits(value), 0, 32, loc));
}
template <class T>
unsigned __match_all_sync(unsigned mask, T value, int* pred, mox_emu_loc loc = mox_emu_loc::current()) {
  namespace d = mox::emu::detail;
  const unsigned r = unsigned(d::collective(d::op_match_all, mask, d::to_bits(value), 0, 32, loc));
  *pred = r != 0;
  return r;
}

#define MOX_EMU_REDUCE(name, T, F)                                                              \
  inline T name(unsigned mask, T value, mox_emu_loc loc = mox_emu_loc::current()) {             \
    namespace d = mox::emu::detail;                                                              \
    static constexpr d::Op op{#name, d::OpKind::Warp, false, 0, &d::reduce_compute<T, d::F>};     \
    return d::from_bits<T>(d::collective(op, mask, d::to_bits(value), 0, 32, loc));              \
  }
MOX_EMU_REDUCE(__reduce_add_sync, unsigned, Add)
MOX_EMU_REDUCE(__reduce_add_sync, int, Add)
MOX_EMU_REDUCE(__reduce_min_sync, unsigned, Min)
MOX_EMU_REDUCE(__reduce_min_sync, int, Min)
MOX_EMU_REDUCE(__reduce_max_sync, unsigned, Max)
MOX_EMU_REDUCE(__reduce_max_sync, int, Max)
MOX_EMU_REDUCE(__reduce_and_sync, unsigned, And)
MOX_EMU_REDUCE(__reduce_or_sync, unsigned, Or)
MOX_EMU_REDUCE(__reduce_xor_sync, unsigned, Xor)
#undef MOX_EMU_REDUCE
