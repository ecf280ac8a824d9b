// Fibers: stacks with a guard page, the context switch, and the sanitizer annotations around it.
// On x86-64 the switch is a hand-written routine that saves the six callee-saved registers
// and swaps stack pointers (about 15 ns); elsewhere, or with MOX_EMU_UCONTEXT defined, it is
// swapcontext (about 300 ns: it saves the signal mask with a system call). The x87 control
// word and MXCSR are not switched: kernels do not change the floating-point environment.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kernels/emu/config.h"

#if !defined(__x86_64__) && !defined(MOX_EMU_UCONTEXT)
#define MOX_EMU_UCONTEXT 1
#endif
#if defined(MOX_EMU_UCONTEXT)
#include <ucontext.h>
#endif

#if defined(MOX_EMU_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(MOX_EMU_TSAN)
#include <sanitizer/tsan_interface.h>
extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}
#endif

namespace mox::emu::detail {

inline size_t page_size() {
  static const size_t p = size_t(sysconf(_SC_PAGESIZE));
  return p;
}

[[noreturn]] inline void fatal(const char* what) {
  std::fprintf(stderr, "mox-emu: %s\n", what);
  std::abort();
}

// A fiber stack: usable bytes [lo, lo + size), an inaccessible guard page below lo, so an
// overflow faults instead of corrupting a neighbour.
struct Stack {
  char* lo = nullptr;
  size_t size = 0;

  void map(size_t bytes) {
    const size_t page = page_size();
    size = (bytes + page - 1) / page * page;
    void* p = mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fatal("cannot map a fiber stack (MOX_EMU_STACK_KB too large?)");
    if (mprotect(p, page, PROT_NONE) != 0) fatal("cannot protect a fiber stack guard page");
    lo = static_cast<char*>(p) + page;
  }
  void unmap() {
    if (lo) munmap(lo - page_size(), size + page_size());
    lo = nullptr;
  }
  // Bytes of the stack that were ever touched (resident pages), for the bench's memory figure.
  size_t resident() const {
    const size_t page = page_size();
    std::vector<unsigned char> v(size / page);
    if (mincore(lo, size, v.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char c : v) n += (c & 1);
    return n * page;
  }
};

#if defined(MOX_EMU_UCONTEXT)

struct Context {
  ucontext_t uc;

  // Makes the context start entry() on the stack at its first switch, `color` bytes below the
  // top; entry never returns.
  void prepare(const Stack& s, void (*entry)(), size_t color) {
    if (getcontext(&uc) != 0) fatal("getcontext failed");
    uc.uc_stack.ss_sp = s.lo;
    uc.uc_stack.ss_size = s.size - color;
    uc.uc_link = nullptr;
    makecontext(&uc, entry, 0);
  }
  static void jump(Context& from, Context& to) {
    if (swapcontext(&from.uc, &to.uc) != 0) fatal("swapcontext failed");
  }
};

#else

// Saves rbp, rbx, r12-r15 on the current stack, stores the stack pointer in *save, loads
// `to` as the stack pointer, restores the registers saved there and returns into that context.
[[gnu::naked, gnu::noinline]] inline void switch_stack(void** /*save*/, void* /*to*/) {
  asm volatile(
      "pushq %rbp\n\t"
      "pushq %rbx\n\t"
      "pushq %r12\n\t"
      "pushq %r13\n\t"
      "pushq %r14\n\t"
      "pushq %r15\n\t"
      "movq %rsp, (%rdi)\n\t"
      "movq %rsi, %rsp\n\t"
      "popq %r15\n\t"
      "popq %r14\n\t"
      "popq %r13\n\t"
      "popq %r12\n\t"
      "popq %rbx\n\t"
      "popq %rbp\n\t"
      "ret\n\t");
}

struct Context {
  void* sp = nullptr;

  // Lays out, `color` bytes below the top of the stack, a frame that switch_stack "returns"
  // into: six zero registers, then entry as the return address, then a null fake return
  // address for entry, so entry starts with the stack aligned as after a call and debuggers
  // see the end of the frame chain.
  void prepare(const Stack& s, void (*entry)(), size_t color) {
    auto top = reinterpret_cast<uintptr_t>(s.lo + s.size - color) & ~uintptr_t(15);
    void** p = reinterpret_cast<void**>(top);
    *--p = nullptr;
    *--p = reinterpret_cast<void*>(entry);
    for (int i = 0; i < 6; ++i) *--p = nullptr;
    sp = p;
  }
  static void jump(Context& from, Context& to) {
    asm volatile("" ::: "memory");
    switch_stack(&from.sp, to.sp);
    asm volatile("" ::: "memory");
  }
};

#endif

// ---- sanitizer annotations (no-ops in ordinary builds)

// ASan: announces a switch to the stack [bottom, bottom + size); fake_save keeps the leaving
// context's fake stack (nullptr when the leaving fiber is finished, which frees it).
inline void asan_start(void** fake_save, const void* bottom, size_t size) {
#if defined(MOX_EMU_ASAN)
  __sanitizer_start_switch_fiber(fake_save, bottom, size);
#else
  (void)fake_save, (void)bottom, (void)size;
#endif
}
inline void asan_finish(void* fake, const void** old_bottom, size_t* old_size) {
#if defined(MOX_EMU_ASAN)
  __sanitizer_finish_switch_fiber(fake, old_bottom, old_size);
#else
  (void)fake, (void)old_bottom, (void)old_size;
#endif
}
// Clears stale poisoning a previous, abandoned use of a stack may have left.
inline void asan_unpoison(const void* p, size_t n) {
#if defined(MOX_EMU_ASAN)
  __asan_unpoison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

// TSan: every fiber is a TSan fiber; switches never synchronise (flag no_sync), only barriers
// and __syncwarp do (release before waiting, acquire after), so a missing barrier is a race.
inline void* tsan_current() {
#if defined(MOX_EMU_TSAN)
  return __tsan_get_current_fiber();
#else
  return nullptr;
#endif
}
inline void* tsan_create() {
#if defined(MOX_EMU_TSAN)
  return __tsan_create_fiber(0);
#else
  return nullptr;
#endif
}
inline void tsan_destroy(void* f) {
#if defined(MOX_EMU_TSAN)
  if (f) __tsan_destroy_fiber(f);
#else
  (void)f;
#endif
}
inline void tsan_switch(void* f) {
#if defined(MOX_EMU_TSAN)
  __tsan_switch_to_fiber(f, __tsan_switch_to_fiber_no_sync);
#else
  (void)f;
#endif
}
inline void tsan_release(const void* addr) {
#if defined(MOX_EMU_TSAN)
  __tsan_release(const_cast<void*>(addr));
#else
  (void)addr;
#endif
}
inline void tsan_acquire(const void* addr) {
#if defined(MOX_EMU_TSAN)
  __tsan_acquire(const_cast<void*>(addr));
#else
  (void)addr;
#endif
}
// The scheduler's own bookkeeping (reading requests fibers left, writing their results) is
// hidden from TSan: only kernel code's accesses are checked.
inline void tsan_ignore_begin() {
#if defined(MOX_EMU_TSAN)
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
}
inline void tsan_ignore_end() {
#if defined(MOX_EMU_TSAN)
  AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
}

// Hides the scope's memory accesses from TSan: the fiber side of a request (writing its
// Fiber record, reading the answer) is bookkeeping, not kernel code.
struct TsanIgnore {
  TsanIgnore() { tsan_ignore_begin(); }
  ~TsanIgnore() { tsan_ignore_end(); }
  TsanIgnore(const TsanIgnore&) = delete;
  TsanIgnore& operator=(const TsanIgnore&) = delete;
};

}  // namespace mox::emu::detail
