// Atomics under contention: many blocks spread over 1, 2 and 4 workers hammer the same
// words; totals must be exact whatever the interleaving.
#include "kernels/emu/tests/helpers.h"

using namespace emu_test;

namespace {

struct Counters {
  int add_i;
  unsigned add_u;
  unsigned long long add_ull;
  float add_f;
  double add_d;
  int sub_i;
  int max_i;
  int min_i;
  unsigned max_u;
  unsigned long long min_ull;
  long long max_ll;
  unsigned inc;
  unsigned dec;
  int cas_counter;
  unsigned and_u, or_u, xor_u;
  unsigned long long or_ull;
  int exch_i;
  float exch_f;
  __half2 add_h2;
  __half add_h;
  __nv_bfloat16 add_bf;
  long long or_ll;
  float4 add_f4;
};

__global__ void contention_kernel(Counters* c) {
  const int t = int(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(&c->add_i, 1);
  atomicAdd(&c->add_u, 2u);
  atomicAdd(&c->add_ull, 3ull);
  atomicAdd(&c->add_f, 1.0f);
  atomicAdd(&c->add_d, 0.5);
  atomicSub(&c->sub_i, 1);
  atomicMax(&c->max_i, (t * 7919) % 100003);
  atomicMin(&c->min_i, -((t * 7919) % 100003));
  atomicMax(&c->max_u, unsigned(t));
  atomicMin(&c->min_ull, 1000000ull - unsigned(t));
  atomicMax(&c->max_ll, (long long)t << 33);
  atomicInc(&c->inc, 999u);
  atomicDec(&c->dec, 999u);
  int old = c->cas_counter, seen;
  while ((seen = atomicCAS(&c->cas_counter, old, old + 1)) != old) old = seen;
  atomicAnd(&c->and_u, ~(1u << (t % 32)));
  atomicOr(&c->or_u, 1u << (t % 32));
  atomicXor(&c->xor_u, unsigned(t));
  atomicOr_block(&c->or_ull, 1ull << (t % 64));
  atomicExch(&c->exch_i, t);
  atomicExch(&c->exch_f, float(t));
  atomicAdd(&c->add_h2, __floats2half2_rn(1.0f, 2.0f));
  atomicAdd(&c->add_h, __float2half(1.0f));
  atomicAdd(&c->add_bf, __float2bfloat16(1.0f));
  atomicOr(&c->or_ll, (long long)1 << (t % 63));
  atomicAdd_system(&c->add_f4, make_float4(1.0f, 2.0f, 0.5f, -1.0f));
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("atomics: exact under contention across workers") {
  const int blocks = 64, threads = 256, n = blocks * threads;
  for (int workers : {1, 2, 4}) {
    for (mox::emu::Order order : {mox::emu::Order::Forward, mox::emu::Order::Random}) {
      mox::emu::Options o = mox::emu::options();
      o.workers = workers;
      o.order = order;
      mox::emu::ScopedOptions scoped(o);
      INFO(mox::emu::describe(o));
      Counters init{};
      init.min_ull = ~0ull;
      init.and_u = ~0u;
      init.exch_i = -1;
      init.add_h2 = __floats2half2_rn(0.0f, 0.0f);
      init.add_h = __float2half(0.0f);
      init.add_bf = __float2bfloat16(0.0f);
      Buffer<Counters> dc(std::vector<Counters>{init});
      MOX_LAUNCH(blocks, threads, 0, nullptr, contention_kernel)(dc.get());
      check(cudaGetLastError());
      const Counters c = dc.download()[0];
      unsigned x = 0;
      int mx = 0;
      for (int t = 0; t < n; ++t) x ^= unsigned(t), mx = std::max(mx, (t * 7919) % 100003);
      CHECK(c.add_i == n);
      CHECK(c.add_u == 2u * n);
      CHECK(c.add_ull == 3ull * n);
      CHECK(c.add_f == float(n));
      CHECK(c.add_d == 0.5 * n);
      CHECK(c.sub_i == -n);
      CHECK(c.max_i == mx);
      CHECK(c.min_i == -mx);
      CHECK(c.max_u == unsigned(n - 1));
      CHECK(c.min_ull == 1000000ull - unsigned(n - 1));
      CHECK(c.max_ll == (long long)(n - 1) << 33);
      CHECK(c.inc == unsigned(n % 1000));
      CHECK(c.dec == unsigned((1000 - n % 1000) % 1000));
      CHECK(c.cas_counter == n);
      CHECK(c.and_u == 0u);
      CHECK(c.or_u == ~0u);
      CHECK(c.xor_u == x);
      CHECK(c.or_ull == ~0ull);
      CHECK(c.exch_i >= 0);
      CHECK(c.exch_i < n);
      CHECK(c.exch_f >= 0.0f);
      // 16-bit sums saturate their precision: 2048 is the last integer fp16 counts to by ones,
      // 256 for bf16.
      CHECK(float(c.add_h2.x) == 2048.0f);
      CHECK(float(c.add_h2.y) == 4096.0f);
      CHECK(float(c.add_h) == 2048.0f);
      CHECK(float(c.add_bf) == 256.0f);
      CHECK(c.or_ll == (long long)(~0ull >> 1));
      CHECK(c.add_f4.x == float(n));
      CHECK(c.add_f4.y == 2.0f * n);
      CHECK(c.add_f4.z == 0.5f * n);
      CHECK(c.add_f4.w == -float(n));
    }
  }
}

}  // TEST_SUITE
