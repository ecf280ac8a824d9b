// Warp collectives against references written from CUDA's documentation: every shuffle
// (with every width, uniform and per-lane source lanes, five value types), every vote, match
// and reduce, on full and partial masks, and __syncwarp ordering shared memory.
#include "kernels/emu/tests/helpers.h"

using namespace emu_test;

namespace {

enum Mode { kIdx, kUp, kDown, kXor };

template <class T>
__global__ void shfl_kernel(int mode, int width, int arg, int per_lane, const T* in, T* out) {
  const int lane = int(threadIdx.x) % 32;
  const int a = per_lane ? (arg + lane * 7) % 32 : arg;
  const T v = in[threadIdx.x];
  T r = v;
  switch (mode) {
    case kIdx: r = __shfl_sync(0xffffffffu, v, a, width); break;
    case kUp: r = __shfl_up_sync(0xffffffffu, v, unsigned(a), width); break;
    case kDown: r = __shfl_down_sync(0xffffffffu, v, unsigned(a), width); break;
    case kXor: r = __shfl_xor_sync(0xffffffffu, v, a, width); break;
  }
  out[threadIdx.x] = r;
}

// The lane whose value `lane` receives, as CUDA's programming guide describes each shuffle.
int source_lane(int mode, int lane, int width, int a) {
  switch (mode) {
    case kIdx: return lane / width * width + a % width;
    case kUp: return lane % width >= a ? lane - a : lane;
    case kDown: return lane % width + a < width ? lane + a : lane;
    default: {
      const int s = lane ^ a;  // later groups of `width` lanes are out of reach
      return s > 31 || s / width > lane / width ? lane : s;
    }
  }
}

template <class T>
void check_shuffles() {
  const int n = 64;
  std::vector<T> in(n);
  for (int i = 0; i < n; ++i) in[size_t(i)] = T(i * 3 + 1);
  Buffer<T> din(in), dout{size_t(n)};
  for (int mode : {kIdx, kUp, kDown, kXor})
    for (int width : {1, 2, 4, 8, 16, 32})
      for (int arg : {0, 1, 3, 7, 16, 31})
        for (int per_lane : {0, 1}) {
          if (per_lane && (mode == kUp || mode == kDown)) continue;
          MOX_LAUNCH(1, n, 0, nullptr, shfl_kernel<T>)(mode, width, arg, per_lane, din.get(), dout.get());
          const std::vector<T> got = dout.download();
          for (int t = 0; t < n; ++t) {
            const int lane = t % 32, a = per_lane ? (arg + lane * 7) % 32 : arg;
            const int src = t / 32 * 32 + source_lane(mode, lane, width, a);
            if (!(got[size_t(t)] == in[size_t(src)])) {
              FAIL_CHECK("mode " << mode << " width " << width << " arg " << a << " lane " << lane
                                 << ": got value of lane " << double(got[size_t(t)]) << ", want "
                                 << double(in[size_t(src)]));
              return;
            }
          }
        }
}

// Lanes 0-15 and 16-31 run different collectives with disjoint masks.
__global__ void split_kernel(const int* in, int* out) {
  const int lane = int(threadIdx.x) % 32, v = in[threadIdx.x];
  if (lane < 16) out[threadIdx.x] = __shfl_down_sync(0x0000ffffu, v, 4);
  else out[threadIdx.x] = __shfl_xor_sync(0xffff0000u, v, 1);
}

constexpr int kVoteSlots = 13;

__global__ void vote_kernel(unsigned mask, const int* pred, const int* val, int* out) {
  const unsigned lane = threadIdx.x % 32;
  if (!(mask >> lane & 1)) return;  // not a participant (no barrier follows)
  const int p = pred[threadIdx.x], v = val[threadIdx.x];
  int* o = out + kVoteSlots * threadIdx.x;
  o[0] = int(__ballot_sync(mask, p));
  o[1] = __any_sync(mask, p);
  o[2] = __all_sync(mask, p);
  o[3] = __uni_sync(mask, p);
  o[4] = int(__match_any_sync(mask, v % 3));
  int all = 0;
  o[5] = int(__match_all_sync(mask, v / 1000, &all));
  o[6] = all;
  o[7] = int(__reduce_add_sync(mask, unsigned(v)));
  o[8] = __reduce_min_sync(mask, v - 150);
  o[9] = __reduce_max_sync(mask, v - 150);
  o[10] = int(__reduce_and_sync(mask, unsigned(v) | 0x100u));
  o[11] = int(__reduce_or_sync(mask, unsigned(v)));
  o[12] = int(__reduce_xor_sync(mask, unsigned(v)));
}

__global__ void syncwarp_kernel(int rounds, int* out) {
  __shared__ int s[128];
  const int t = int(threadIdx.x), lane = t % 32, base = t - lane;
  // Half warps exchange among themselves with their own masks, then the whole warp.
  const unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  const int half_base = base + (lane < 16 ? 0 : 16);
  int v = t;
  for (int r = 0; r < rounds; ++r) {
    s[t] = v;
    __syncwarp(half);
    v = s[half_base + (lane % 16 + 1) % 16] + 1;
    __syncwarp(half);
    s[t] = v;
    __syncwarp();
    v = s[base + (lane + 1) % 32] + 1;
    __syncwarp();
  }
  out[t] = v;
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("warp: every shuffle width and type against the documented semantics") {
  for_each_config([] {
    check_shuffles<int>();
    check_shuffles<float>();
    check_shuffles<double>();
    check_shuffles<long long>();
    check_shuffles<__half>();
  });
}

TEST_CASE("warp: disjoint masks run independently and sources outside the mask read all-ones") {
  std::vector<int> in(64);
  for (int i = 0; i < 64; ++i) in[size_t(i)] = 100 + i;
  for_each_config([&] {
    Buffer<int> din(in), dout(64);
    MOX_LAUNCH(1, 64, 0, nullptr, split_kernel)(din.get(), dout.get());
    const std::vector<int> got = dout.download();
    for (int t = 0; t < 64; ++t) {
      const int lane = t % 32;
      const int want = lane < 16 ? (lane + 4 < 16 ? in[size_t(t + 4)] : -1) : in[size_t(t ^ 1)];
      REQUIRE(got[size_t(t)] == want);
    }
  });
}

TEST_CASE("warp: ballot any all uni match and reduce on full and partial masks") {
  std::mt19937 gen(11);
  std::vector<int> pred(64), val(64);
  for (int i = 0; i < 64; ++i) {
    pred[size_t(i)] = int(gen() % 2);
    val[size_t(i)] = int(gen() % 300) + (i < 40 ? 0 : 1000);
  }
  for (unsigned mask : {0xffffffffu, 0x0000ffffu, 0xaaaaaaaau, 0x00000004u}) {
    INFO("mask ", mask);
    for_each_config([&] {
      Buffer<int> dp(pred), dv(val), out(kVoteSlots * 64);
      out.fill_bytes(0);
      MOX_LAUNCH(1, 64, 0, nullptr, vote_kernel)(mask, dp.get(), dv.get(), out.get());
      const std::vector<int> got = out.download();
      for (int w = 0; w < 2; ++w) {
        unsigned ballot = 0, all_same_hi = 1, sum = 0, band = ~0u, bor = 0, bxor = 0;
        int mn = 1 << 30, mx = -(1 << 30);
        const int first = w * 32 + __builtin_ctz(mask);
        for (int l = 0; l < 32; ++l) {
          if (!(mask >> l & 1)) continue;
          const int i = w * 32 + l, v = val[size_t(i)];
          ballot |= unsigned(pred[size_t(i)] != 0) << l;
          all_same_hi &= v / 1000 == val[size_t(first)] / 1000;
          sum += unsigned(v), band &= unsigned(v) | 0x100u, bor |= unsigned(v), bxor ^= unsigned(v);
          mn = std::min(mn, v - 150), mx = std::max(mx, v - 150);
        }
        for (int l = 0; l < 32; ++l) {
          if (!(mask >> l & 1)) continue;
          const int i = w * 32 + l;
          const int* o = &got[size_t(kVoteSlots * i)];
          unsigned same = 0;
          for (int k = 0; k < 32; ++k)
            if ((mask >> k & 1) && val[size_t(w * 32 + k)] % 3 == val[size_t(i)] % 3) same |= 1u << k;
          CHECK(unsigned(o[0]) == ballot);
          CHECK(o[1] == (ballot != 0));
          CHECK(o[2] == (ballot == mask));
          CHECK(o[3] == (ballot == 0 || ballot == mask));
          CHECK(unsigned(o[4]) == same);
          CHECK(unsigned(o[5]) == (all_same_hi ? mask : 0u));
          CHECK(o[6] == int(all_same_hi));
          CHECK(unsigned(o[7]) == sum);
          CHECK(o[8] == mn);
          CHECK(o[9] == mx);
          CHECK(unsigned(o[10]) == band);
          CHECK(unsigned(o[11]) == bor);
          CHECK(unsigned(o[12]) == bxor);
        }
      }
    });
  }
}

TEST_CASE("warp: __syncwarp orders shared memory within full and half warps") {
  const int rounds = 3;
  for_each_config([&] {
    Buffer<int> out(128);
    MOX_LAUNCH(1, 128, 0, nullptr, syncwarp_kernel)(rounds, out.get());
    const std::vector<int> got = out.download();
    std::vector<int> want(128);
    for (int t = 0; t < 128; ++t) want[size_t(t)] = t;
    for (int r = 0; r < rounds; ++r) {
      std::vector<int> next(128);
      for (int t = 0; t < 128; ++t) {
        const int lane = t % 32, hb = t - lane + (lane < 16 ? 0 : 16);
        next[size_t(t)] = want[size_t(hb + (lane % 16 + 1) % 16)] + 1;
      }
      for (int t = 0; t < 128; ++t) want[size_t(t)] = next[size_t(t - t % 32 + (t % 32 + 1) % 32)] + 1;
    }
    CHECK(got == want);
  });
}

}  // TEST_SUITE
