// The scheduler: one Worker per OS thread runs whole blocks. A block's threads are fibers on
// the worker; each runs until it reaches a barrier, a warp collective or its end, then the
// scheduler picks the next ready fiber (forward, reverse or random order). A warp collective
// completes when every lane its mask names has arrived; a barrier when every live thread of the
// block waits at it. When no fiber can run, the scheduler releases pending __activemask calls,
// then the barrier, and otherwise reports what went wrong (report.h) instead of hanging.
#pragma once

#include <algorithm>
#include <cstring>

#include "kernels/emu/block.h"

namespace mox::emu::detail {

class Worker;
inline constinit thread_local Worker* tls_worker = nullptr;

[[noreturn]] void fiber_entry();
void install_overflow_report();

class Worker {
 public:
  // The worker of the calling thread.
  static Worker& get() {
    if (tls_worker) return *tls_worker;
    thread_local Worker w;
    tls_worker = &w;
    return w;
  }

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() {
    for (auto& f : fibers_) {
      f->stack.unmap();
      tsan_destroy(f->tsan);
    }
    release_smem();
    if (tls_worker == this) tls_worker = nullptr;
  }

  // Runs blocks of L until none is left or the launch stopped after a report.
  void run(Launch& L) {
    struct Ignore {
      Ignore() { tsan_ignore_begin(); }
      ~Ignore() { tsan_ignore_end(); }
    } ignore;
    launch_ = &L;
    prepare_fibers(L.nthreads, L.opts.stack_bytes);
    prepare_smem(L.smem);
    for (;;) {
      if (L.stop.load(std::memory_order_relaxed)) break;
      uint64_t i = L.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= L.nblocks) break;
      try {
        run_block(L, L.block_at(i));
      } catch (...) {
        for (unsigned t = 0; t < L.nthreads; ++t) fibers_[t]->dirty = true;
        current_ = nullptr;
        L.fail(std::current_exception());
        break;
      }
    }
    launch_ = nullptr;
  }

  // ---- used by fibers

  Fiber* current() const { return current_; }
  const Launch* launch() const { return launch_; }
  unsigned char* smem() const { return smem_; }
  // TSan objects a barrier or __syncwarp synchronises through: one per barrier generation
  // and one per warp-collective instance, so a fiber that already went on to the next
  // barrier does not hand its later accesses to a fiber still leaving this one.
  const void* barrier_sync() const { return &tsan_barrier_[barrier_gen_ % sizeof tsan_barrier_]; }
  const void* warp_sync(const Fiber& f, const Op& op, unsigned mask) const {
    for (const Group& g : warps_[f.warp].groups)
      if (g.op == &op && g.mask == mask) return &tsan_warp_[g.token % sizeof tsan_warp_];
    return &tsan_warp_[next_token_ % sizeof tsan_warp_];
  }

  // Switches from fiber f back to the scheduler; returns when the scheduler resumes f.
  void leave(Fiber& f) {
    asan_start(&f.asan_fake, stack_bottom_, stack_size_);
    tsan_switch(tsan_);
    Context::jump(f.ctx, ctx_);
    asan_finish(f.asan_fake, &stack_bottom_, &stack_size_);
  }

  // Records an error of fiber f (an exception from the kernel, a trap) for the scheduler to
  // report once f has finished.
  void record_error(Fiber& f, std::exception_ptr error) {
    TsanIgnore ignore;
    if (!error_) error_ = std::move(error);
    f.dirty = true;
  }

  // Ends fiber f for good: its kernel returned, threw or trapped.
  [[noreturn]] void finish(Fiber& f) {
    tsan_release(&tsan_block_end_);
    tsan_release(&launch_->tsan_end);
    {
      TsanIgnore ignore;
      f.wait = Wait::Done;
    }
    asan_start(nullptr, stack_bottom_, stack_size_);
    tsan_switch(tsan_);
    Context::jump(f.ctx, ctx_);
    __builtin_unreachable();
  }

  // First thing a fiber does: finish ASan's switch and order itself after the host's writes
  // and after the blocks this worker ran before (not after the threads of its own block).
  void enter(Fiber&) {
    asan_finish(nullptr, &stack_bottom_, &stack_size_);
    tsan_acquire(&launch_->tsan_begin);
    tsan_acquire(&tsan_block_start_);
  }

  // The resident bytes of every pooled fiber stack, and how many fibers the pool holds.
  size_t resident_stack_bytes() const {
    size_t n = 0;
    for (auto& f : fibers_) n += f->stack.resident();
    return n;
  }
  size_t pooled_fibers() const { return fibers_.size(); }

 private:
  Worker() : tsan_(tsan_current()) { install_overflow_report(); }

  void prepare_fibers(unsigned n, size_t stack_bytes) {
    for (auto& f : fibers_)
      if (f->stack.size != (stack_bytes + page_size() - 1) / page_size() * page_size()) {
        f->stack.unmap();
        f->stack.map(stack_bytes);
      }
    while (fibers_.size() < n) {
      auto f = std::make_unique<Fiber>();
      f->stack.map(stack_bytes);
      f->tsan = tsan_create();
      fibers_.push_back(std::move(f));
    }
  }

  // Dynamic shared memory, sized exactly: under ASan a heap block of that size, otherwise the
  // end of a mapping followed by a guard page, so overruns fault.
  void prepare_smem(size_t n) {
#if defined(MOX_EMU_ASAN)
    release_smem();
    smem_ = static_cast<unsigned char*>(std::malloc(n));
    if (!smem_ && n) fatal("out of memory for dynamic shared memory");
#else
    const size_t page = page_size();
    const size_t need = std::max<size_t>((n + page - 1) / page * page, page);
    if (need != smem_map_bytes_) {
      release_smem();
      void* p = mmap(nullptr, need + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) fatal("cannot map dynamic shared memory");
      if (mprotect(static_cast<char*>(p) + need, page, PROT_NONE) != 0)
        fatal("cannot protect the dynamic shared memory guard page");
      smem_map_ = static_cast<unsigned char*>(p);
      smem_map_bytes_ = need;
    }
    smem_ = smem_map_ + need - (n + 15) / 16 * 16;
#endif
    smem_size_ = n;
  }
  void release_smem() {
#if defined(MOX_EMU_ASAN)
    std::free(smem_);
#else
    if (smem_map_) munmap(smem_map_, smem_map_bytes_ + page_size());
    smem_map_ = nullptr;
    smem_map_bytes_ = 0;
#endif
    smem_ = nullptr;
  }

  void run_block(Launch& L, uint64_t linear) {
    const dim3 g = L.grid, b = L.block;
    block_ = uint3{unsigned(linear % g.x), unsigned(linear / g.x % g.y),
                   unsigned(linear / (uint64_t(g.x) * g.y))};
    blockIdx = block_;
    blockDim = b;
    gridDim = g;
    const unsigned n = L.nthreads;
    warps_.resize((n + 31) / 32);
    for (Warp& w : warps_) {
      w.exist = w.live = 0;
      w.groups.clear();
      std::fill(std::begin(w.lanes), std::end(w.lanes), nullptr);
    }
    // The frames a finished fiber left at the top of its stack (its colour offset included).
    const size_t top = std::min<size_t>(2 * page_size(), fibers_.empty() ? 0 : fibers_[0]->stack.size);
    for (unsigned t = 0; t < n; ++t) {
      Fiber& f = *fibers_[t];
      if (f.dirty) asan_unpoison(f.stack.lo, f.stack.size);
      else asan_unpoison(f.stack.lo + f.stack.size - top, top);
      f.dirty = false;
      f.asan_fake = nullptr;
      f.tid = t;
      f.idx = uint3{t % b.x, t / b.x % b.y, t / (b.x * b.y)};
      f.lane = t & 31;
      f.warp = t >> 5;
      // Stack tops staggered by cache lines: page-aligned tops would all compete for the same
      // few L1 sets (measured: 2x the barrier cost at 256 threads).
      f.ctx.prepare(f.stack, &fiber_entry, (t % 64) * 64);
      Warp& w = warps_[f.warp];
      w.lanes[f.lane] = &f;
      w.exist |= 1u << f.lane;
    }
    for (Warp& w : warps_) w.live = w.exist;
    live_ = n;
    done_ = 0;
    at_barrier_ = 0;
    error_ = nullptr;
    if (smem_size_) std::memset(smem_, 0xff, smem_size_);  // stale shared memory reads as NaN
    tsan_acquire(&tsan_block_end_);  // the previous blocks' fibers, for this block's fibers
    tsan_release(&tsan_block_start_);
    rng_ = L.opts.seed ^ (linear * 0x2545f4914f6cdd1dull);
    order_ = L.opts.order;
    ready_.clear();
    head_ = 0;
    for (unsigned i = 0; i < n; ++i) make_ready(*fibers_[order_ == Order::Reverse ? n - 1 - i : i]);

    for (;;) {
      while (head_ < ready_.size()) {
        Fiber& f = pick();
        resume(f);
        switch (f.wait) {
          case Wait::Done: exited(f); break;
          case Wait::Barrier: ++at_barrier_; break;
          case Wait::Warp: arrive(f); break;
          case Wait::Active: arrive_active(f); break;
          default: break;
        }
        if (error_) kernel_error();
      }
      ready_.clear();
      head_ = 0;
      if (live_ == 0) break;
      if (release_active()) continue;
      if (at_barrier_ == live_) {
        release_barrier();
        continue;
      }
      report_deadlock();
    }
  }

  void resume(Fiber& f) {
    current_ = &f;
    threadIdx = f.idx;
    f.wait = Wait::Running;
    asan_start(&asan_fake_, f.stack.lo, f.stack.size);
    tsan_switch(f.tsan);
    Context::jump(ctx_, f.ctx);
    asan_finish(asan_fake_, nullptr, nullptr);
    current_ = nullptr;
  }

  Fiber& pick() {
    if (order_ == Order::Random) {
      size_t k = head_ + splitmix(rng_) % (ready_.size() - head_);
      std::swap(ready_[head_], ready_[k]);
    }
    return *ready_[head_++];
  }
  void make_ready(Fiber& f) {
    f.wait = Wait::Ready;
    ready_.push_back(&f);
  }
  // Makes the lanes in `mask` of warp w ready, in scheduling order.
  void make_ready(Warp& w, unsigned mask) {
    for (int i = 0; i < 32; ++i) {
      int lane = order_ == Order::Reverse ? 31 - i : i;
      if (mask >> lane & 1) make_ready(*w.lanes[lane]);
    }
  }

  void exited(Fiber& f) {
    --live_;
    ++done_;
    Warp& w = warps_[f.warp];
    w.live &= ~(1u << f.lane);
    for (const Group& g : w.groups)
      if (g.op->kind == OpKind::Warp && (g.mask >> f.lane & 1))
        report("collective includes exited lanes",
               "thread " + coords(f.idx) + " (lane " + std::to_string(f.lane) + " of warp " +
                   std::to_string(f.warp) + ") exited while lanes " + hex(g.arrived) + " wait in " +
                   g.op->name + " at " + site(g.loc) + " with mask " + hex(g.mask) +
                   ", which includes it");
  }

  void arrive(Fiber& f) {
    const Request& r = f.req;
    Warp& w = warps_[f.warp];
    const unsigned bit = 1u << f.lane;
    auto who = [&] {  // built only for a report: this is the hot path
      return "thread " + coords(f.idx) + " (lane " + std::to_string(f.lane) + " of warp " +
             std::to_string(f.warp) + ")";
    };
    if (!(r.mask & bit))
      report("invalid collective", who() + " calls " + r.op->name + " at " + site(r.loc) +
                                       " with mask " + hex(r.mask) + ", which does not include it");
    if (r.width < 1 || r.width > 32 || (r.width & (r.width - 1)))
      report("invalid collective", who() + " calls " + r.op->name + " at " + site(r.loc) +
                                       " with width " + std::to_string(r.width) +
                                       " (a power of 2 up to 32)");
    if (unsigned gone = r.mask & ~w.live) {
      const unsigned missing = gone & ~w.exist;
      report("collective includes exited lanes",
             who() + " calls " + r.op->name + " at " + site(r.loc) + " with mask " + hex(r.mask) +
                 (missing ? ", which names lanes " + hex(missing) + " the block does not have"
                          : ", which includes lanes " + hex(gone) + " that have exited"));
    }
    // Lanes join the pending collective with the same mask and intrinsic; masks may overlap
    // (half warps can sync while the other half already waits for the whole warp).
    size_t gi = w.groups.size();
    for (size_t i = 0; i < w.groups.size(); ++i)
      if (w.groups[i].op->kind == OpKind::Warp && w.groups[i].mask == r.mask && w.groups[i].op == r.op)
        gi = i;
    if (gi == w.groups.size()) w.groups.push_back(Group{r.op, r.mask, 0, r.loc, next_token_++});
    Group& g = w.groups[gi];
    g.arrived |= bit;
    // Two collectives each waiting for a lane held in the other can never complete.
    for (const Group& h : w.groups)
      if (&h != &g && h.op->kind == OpKind::Warp && (h.mask & g.arrived) && (g.mask & h.arrived))
        report("mismatched collectives",
               who() + " calls " + r.op->name + " at " + site(r.loc) + " with mask " + hex(r.mask) +
                   " while lanes " + hex(h.arrived) + " wait in " + h.op->name + " at " +
                   site(h.loc) + " with mask " + hex(h.mask) + "; each waits for lanes held by the other");
    if (g.arrived == g.mask) release(w, gi);
  }

  void release(Warp& w, size_t i) {
    const Group g = w.groups[i];
    w.groups.erase(w.groups.begin() + std::ptrdiff_t(i));
    if (g.op->compute) g.op->compute(w.lanes, g.mask);
    make_ready(w, g.mask);
  }

  void arrive_active(Fiber& f) {
    Warp& w = warps_[f.warp];
    for (Group& g : w.groups)
      if (g.op->kind == OpKind::Active && same_site(g.loc, f.req.loc)) {
        g.arrived |= 1u << f.lane;
        return;
      }
    w.groups.push_back(Group{f.req.op, 0, 1u << f.lane, f.req.loc, 0});
  }

  // Releases every pending __activemask: each caller gets the lanes that called it at the same
  // site (the lanes that would run converged there on a GPU).
  bool release_active() {
    bool any = false;
    for (Warp& w : warps_)
      for (size_t i = 0; i < w.groups.size();) {
        if (w.groups[i].op->kind != OpKind::Active) {
          ++i;
          continue;
        }
        const unsigned arrived = w.groups[i].arrived;
        for (unsigned m = arrived; m; m &= m - 1) w.lanes[__builtin_ctz(m)]->req.out = arrived;
        w.groups.erase(w.groups.begin() + std::ptrdiff_t(i));
        make_ready(w, arrived);
        any = true;
      }
    return any;
  }

  void release_barrier();
  [[noreturn]] void report_deadlock();
  [[noreturn]] void report(const char* what, const std::string& detail);
  [[noreturn]] void kernel_error();

  friend void fiber_entry();

  Context ctx_;
  void* tsan_;
  void* asan_fake_ = nullptr;
  const void* stack_bottom_ = nullptr;
  size_t stack_size_ = 0;
  Fiber* current_ = nullptr;
  Launch* launch_ = nullptr;
  std::vector<std::unique_ptr<Fiber>> fibers_;
  std::vector<Warp> warps_;
  std::vector<Fiber*> ready_;
  size_t head_ = 0;
  uint3 block_{0, 0, 0};
  unsigned live_ = 0, done_ = 0, at_barrier_ = 0;
  Order order_ = Order::Forward;
  uint64_t rng_ = 0;
  std::exception_ptr error_;
  unsigned char* smem_ = nullptr;
  size_t smem_size_ = 0;
  unsigned char* smem_map_ = nullptr;
  size_t smem_map_bytes_ = 0;
  // TSan synchronisation objects (addresses only).
  char tsan_block_end_ = 0, tsan_block_start_ = 0;
  char tsan_barrier_[64] = {};
  char tsan_warp_[1024] = {};
  uint64_t barrier_gen_ = 0, next_token_ = 0;
};

inline void fiber_entry() {
  Worker& w = *tls_worker;
  Fiber& f = *w.current_;
  w.enter(f);
  try {
    w.launch_->body(w.launch_->args);
  } catch (...) {
    w.record_error(f, std::current_exception());
  }
  w.finish(f);
}

}  // namespace mox::emu::detail

#include "kernels/emu/report.h"
