// What the scheduler does when no fiber can run (release the barrier, or report an early exit,
// a divergent barrier or a deadlock), how a report leaves (printed before abort(), or thrown
// as mox::emu::Misuse, per Options::on_misuse), and the report of a fiber stack overflow.
#pragma once

#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <mutex>

#include "kernels/emu/scheduler.h"

namespace mox::emu::detail {

// A Misuse raised inside a fiber (by __trap, or an intrinsic called wrongly); the scheduler
// adds the launch's context to it.
class FiberMisuse : public std::runtime_error {
 public:
  FiberMisuse(const char* what, const std::string& detail)
      : std::runtime_error(detail), what_(what) {}
  const char* kind() const { return what_; }

 private:
  const char* what_;
};

inline std::string describe_wait(const Fiber& f) {
  switch (f.wait) {
    case Wait::Barrier:
    case Wait::Active: return std::string("at ") + f.req.op->name + " (" + site(f.req.loc) + ")";
    case Wait::Warp:
      return std::string("in ") + f.req.op->name + " (" + site(f.req.loc) + ", mask " +
             hex(f.req.mask) + ")";
    case Wait::Done: return "exited";
    default: return "running";
  }
}

// Distinct barriers the waiting threads are at, with how many wait at each and one of them.
inline std::string barrier_sites(const std::vector<std::unique_ptr<Fiber>>& fibers, unsigned n,
                                 size_t* distinct) {
  struct Site {
    const Fiber* example;
    unsigned count;
  };
  std::vector<Site> sites;
  for (unsigned t = 0; t < n; ++t) {
    const Fiber& f = *fibers[t];
    if (f.wait != Wait::Barrier) continue;
    auto it = std::find_if(sites.begin(), sites.end(), [&](const Site& s) {
      return s.example->req.op == f.req.op && same_site(s.example->req.loc, f.req.loc);
    });
    if (it == sites.end()) sites.push_back(Site{&f, 1});
    else ++it->count;
  }
  *distinct = sites.size();
  std::string out;
  for (size_t i = 0; i < sites.size() && i < 4; ++i) {
    if (i) out += ", ";
    out += std::to_string(sites[i].count) + " at " + sites[i].example->req.op->name + " (" +
           site(sites[i].example->req.loc) + ", e.g. thread " + coords(sites[i].example->idx) + ")";
  }
  if (sites.size() > 4) out += ", ...";
  return out;
}

inline void Worker::release_barrier() {
  const unsigned n = launch_->nthreads;
  const Fiber& first = *fibers_[0];
  bool same = done_ == 0;
  unsigned count = 0;
  for (unsigned t = 0; t < n && same; ++t) {
    const Fiber& f = *fibers_[t];
    same = f.req.op == first.req.op && same_site(f.req.loc, first.req.loc);
    count += f.req.in != 0;
  }
  if (!same) {  // only now build the report: this is the hot path
    size_t distinct = 0;
    const std::string sites = barrier_sites(fibers_, n, &distinct);
    if (done_ > 0) {
      const Fiber* gone = nullptr;
      for (unsigned t = 0; t < n && !gone; ++t)
        if (fibers_[t]->wait == Wait::Done) gone = fibers_[t].get();
      report("thread exited before barrier",
             std::to_string(done_) + " of " + std::to_string(n) + " threads (e.g. thread " +
                 coords(gone->idx) + ") returned while the others wait: " + sites +
                 "; every thread of the block must reach every barrier");
    }
    report("divergent barrier", "the threads of the block wait at different barriers: " + sites);
  }
  uint64_t result = 0;
  switch (first.req.op->code) {
    case 1: result = count; break;
    case 2: result = count == n; break;
    case 3: result = count > 0; break;
    default: break;
  }
  at_barrier_ = 0;
  ++barrier_gen_;
  for (unsigned i = 0; i < n; ++i) {
    Fiber& f = *fibers_[order_ == Order::Reverse ? n - 1 - i : i];
    f.req.out = result;
    make_ready(f);
  }
}

inline void Worker::report_deadlock() {
  const unsigned n = launch_->nthreads;
  std::string d = "no thread of the block can proceed";
  if (at_barrier_) {
    size_t distinct = 0;
    d += "; waiting at block barriers: " + barrier_sites(fibers_, n, &distinct);
  }
  for (size_t wi = 0; wi < warps_.size(); ++wi)
    for (const Group& g : warps_[wi].groups) {
      if (g.op->kind != OpKind::Warp) continue;
      const unsigned missing = g.mask & ~g.arrived;
      d += "; warp " + std::to_string(wi) + ": lanes " + hex(g.arrived) + " wait in " + g.op->name +
           " (" + site(g.loc) + ", mask " + hex(g.mask) + ") for lanes " + hex(missing);
      int shown = 0;
      for (unsigned m = missing; m && shown < 3; m &= m - 1, ++shown) {
        const Fiber& f = *warps_[wi].lanes[__builtin_ctz(m)];
        d += std::string(shown ? ", " : ": ") + "lane " + std::to_string(f.lane) + " is " +
             describe_wait(f);
      }
      if (__builtin_popcount(missing) > 3) d += ", ...";
    }
  report("deadlock", d);
}

inline void Worker::report(const char* what, const std::string& detail) {
  const std::string msg = std::string("mox-emu: ") + what + " in kernel " + launch_->name +
                          ", block " + coords(block_) + " [" + describe(launch_->opts) +
                          "]: " + detail;
  if (launch_->opts.on_misuse == OnMisuse::Throw) throw Misuse(msg);
  std::fprintf(stderr, "%s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void Worker::kernel_error() {
  std::exception_ptr e = std::move(error_);
  error_ = nullptr;
  try {
    std::rethrow_exception(e);
  } catch (const FiberMisuse& x) {
    report(x.kind(), x.what());
  } catch (const std::exception& x) {
    report("kernel threw", x.what());
  } catch (...) {
    report("kernel threw", "an exception that is not a std::exception");
  }
}

// ---- fiber stack overflow: a report instead of a bare segmentation fault

inline struct sigaction& previous_segv_action() {
  static struct sigaction a {};
  return a;
}

// A fault while a fiber runs with its stack pointer below its stack, or in the guard page, is
// a stack overflow: say so and abort. Other faults go to the handler installed before ours.
inline void segv_handler(int sig, siginfo_t* info, void* context) {
  const Worker* w = tls_worker;
  const Fiber* f = w ? w->current() : nullptr;
  if (f) {
    const char* addr = static_cast<const char*>(info->si_addr);
    bool overflow = addr >= f->stack.lo - page_size() && addr < f->stack.lo;
#if defined(__x86_64__)
    const auto sp = static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RSP];
    overflow = overflow || (uintptr_t(sp) < uintptr_t(f->stack.lo) &&
                            uintptr_t(sp) + (size_t(1) << 30) > uintptr_t(f->stack.lo));
#endif
    if (overflow) {
      char msg[400];
      const int n = std::snprintf(msg, sizeof msg,
                                  "mox-emu: fiber stack overflow in kernel %s, thread (%u,%u,%u): "
                                  "its %zu-byte stack is too small (raise MOX_EMU_STACK_KB)\n",
                                  w->launch() ? w->launch()->name : "?", f->idx.x, f->idx.y,
                                  f->idx.z, f->stack.size);
      if (n > 0 && write(2, msg, size_t(n) < sizeof msg ? size_t(n) : sizeof msg - 1) < 0) std::abort();
      std::abort();
    }
  }
  const struct sigaction& prev = previous_segv_action();
  if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction) {
    prev.sa_sigaction(sig, info, context);
  } else if (prev.sa_handler != SIG_IGN && prev.sa_handler != SIG_DFL && prev.sa_handler) {
    prev.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);  // the fault repeats on return and takes the default action
  }
}

// Installs segv_handler once per process and an alternate signal stack on this thread (the
// faulting stack has no room left), unless a sanitizer, which reports overflows itself, runs.
inline void install_overflow_report() {
#if !defined(MOX_EMU_ASAN) && !defined(MOX_EMU_TSAN)
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction a {};
    a.sa_sigaction = &segv_handler;
    a.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&a.sa_mask);
    sigaction(SIGSEGV, &a, &previous_segv_action());
  });
  // The thread's own alternate stack, if it has one (doctest sets one), is kept.
  struct AltStack {
    std::vector<char> mem;
    bool ours = false;
    AltStack() {
      stack_t old{};
      if (sigaltstack(nullptr, &old) != 0 || !(old.ss_flags & SS_DISABLE)) return;
      mem.resize(size_t(64) << 10);
      stack_t s{};
      s.ss_sp = mem.data();
      s.ss_size = mem.size();
      ours = sigaltstack(&s, nullptr) == 0;
    }
    ~AltStack() {
      if (!ours) return;
      stack_t off{};
      off.ss_flags = SS_DISABLE;
      sigaltstack(&off, nullptr);
    }
  };
  thread_local AltStack alt;
#endif
}

}  // namespace mox::emu::detail
