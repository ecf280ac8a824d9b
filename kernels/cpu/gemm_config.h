// The pieces of the CPU GEMM (kernels/cpu/gemm.cpp) that other CPU kernels drive themselves:
// the register-blocked micro-kernel, the packing routines and the blocking sizes of the
// micro-kernel family in use, and a per-thread scratch buffer. The implicit-GEMM convolution
// (kernels/cpu/conv_gemm.cpp) packs its own B panels and runs these micro-kernels on them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace mox::cpu {

// C[0..mr, 0..nr] = alpha * (packed A panel · packed B panel) + beta * C (C's old value ignored
// when beta is 0), for a panel of MR rows x NR columns, kc steps deep. C element (i, j) lives
// at c + i*rs + j*cs.
template <class T>
using MicroFn = void(int64_t kc, const T* a, const T* b, T* c, int64_t rs, int64_t cs, T alpha,
                     T beta, int mr, int nr);
// Packs the rows x kc block at a (rows <= MR) into one MR-tall micro-panel, zero-padded.
template <class T>
using PackAFn = void(T* dst, const T* a, int64_t rs, int64_t cs, int64_t rows, int64_t kc);
// Packs the kc x cols block at b into NR-wide micro-panels, panel q at dst + q * kc * NR, the
// last one zero-padded.
template <class T>
using PackBFn = void(T* dst, const T* b, int64_t rs, int64_t cs, int64_t kc, int64_t cols);

template <class T>
struct GemmConfig {
  int mr, nr;
  int64_t kc, mc, nc;  // mc is a multiple of mr, nc of nr; A block mc x kc, B block kc x nc
  MicroFn<T>* micro;
  PackAFn<T>* pack_a;
  PackBFn<T>* pack_b;
};

// The configuration of the micro-kernel family the GEMM runs now (see gemm_isa()); T is float
// or double.
template <class T>
GemmConfig<T> gemm_config();

// Packs the mc x kc block at a into MR-tall micro-panels at dst. Called by every thread of an
// OpenMP parallel region, it shares the panels out among them (an orphaned omp for, with its
// barrier at the end).
template <class T>
void pack_a_block(const GemmConfig<T>& cfg, T* dst, const T* a, int64_t rs, int64_t cs, int64_t mc, int64_t kc) {
  const int64_t panels = (mc + cfg.mr - 1) / cfg.mr;
#pragma omp for schedule(static)
  for (int64_t ip = 0; ip < panels; ++ip)
    cfg.pack_a(dst + ip * kc * cfg.mr, a + ip * cfg.mr * rs, rs, cs, std::min<int64_t>(cfg.mr, mc - ip * cfg.mr), kc);
}

// Grow-only 64-byte-aligned scratch memory; keep one per thread and role (thread_local).
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(ptr); }
  template <class T>
  T* get(size_t n) {
    size_t want = (n * sizeof(T) + 63) / 64 * 64;
    if (want > bytes) {
      std::free(ptr);
      ptr = std::aligned_alloc(64, want);
      bytes = ptr ? want : 0;
      if (!ptr) throw std::bad_alloc();
    }
    return static_cast<T*>(ptr);
  }
};

}  // namespace mox::cpu
