// Costs of the CUDA emulator: context switch, barrier per thread, an emulated SGEMM and
// reduction, memory per fiber. Not a test; run `mox_emu_bench --help`.
#include <time.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kernels/emu/examples/examples.h"

namespace {

// With one worker everything runs on this thread, so its CPU time is the figure (it does not
// count time the OS gave to other processes); with more workers, wall time.
bool use_cpu_time() { return mox::emu::options().workers == 1; }

double now() {
  timespec ts{};
  clock_gettime(use_cpu_time() ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Median time of `reps` runs of f, in seconds.
double median_time(int reps, const std::function<void()>& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double start = now();
    f();
    t.push_back(now() - start);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// ---- raw switch cost: the emulator's context switch and swapcontext, ping-ponging

namespace d = mox::emu::detail;
d::Context main_ctx, fiber_ctx;
ucontext_t main_uc, fiber_uc;
long pings = 0;

[[noreturn]] void emu_fiber() {
  for (;;) {
    ++pings;
    d::Context::jump(fiber_ctx, main_ctx);
  }
}
void uc_fiber() {
  for (;;) {
    ++pings;
    swapcontext(&fiber_uc, &main_uc);
  }
}

double emu_switch_ns(long n) {
  d::Stack stack;
  stack.map(64 << 10);
  fiber_ctx.prepare(stack, &emu_fiber, 0);
  const double start = now();
  for (long i = 0; i < n; ++i) d::Context::jump(main_ctx, fiber_ctx);
  const double s = now() - start;
  stack.unmap();
  return s * 1e9 / double(2 * n);
}

double ucontext_switch_ns(long n) {
  d::Stack stack;
  stack.map(64 << 10);
  getcontext(&fiber_uc);
  fiber_uc.uc_stack.ss_sp = stack.lo;
  fiber_uc.uc_stack.ss_size = stack.size;
  fiber_uc.uc_link = nullptr;
  makecontext(&fiber_uc, &uc_fiber, 0);
  const double start = now();
  for (long i = 0; i < n; ++i) swapcontext(&main_uc, &fiber_uc);
  const double s = now() - start;
  stack.unmap();
  return s * 1e9 / double(2 * n);
}

// ---- kernels

__global__ void barrier_kernel(int rounds, int* out) {
  int v = int(threadIdx.x);
  for (int r = 0; r < rounds; ++r) __syncthreads();
  out[threadIdx.x] = v;
}

__global__ void empty_kernel() {}

template <class T>
T* device_copy(const std::vector<T>& v) {
  T* p = nullptr;
  cudaMalloc(&p, v.size() * sizeof(T));
  cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::printf(
          "usage: mox_emu_bench [--help]\n"
          "Measures the CUDA emulator (kernels/emu) on this machine and prints:\n"
          "  switch          one fiber context switch (hand-written x86-64 routine, and\n"
          "                  swapcontext for comparison), ns\n"
          "  barrier         __syncthreads cost per thread per barrier, 256- and 1024-thread blocks, ns\n"
          "  launch          an empty 1-block, 32-thread launch, us\n"
          "  sgemm 128^3     the register-blocked example SGEMM (64x64 tiles), ms\n"
          "  reduce 1M       the example block reduction over 2^20 floats, ms\n"
          "  memory/fiber    fiber stack reserved, resident (touched) after the runs, and the\n"
          "                  scheduler's per-fiber record, bytes\n"
          "The emulator's options come from the environment (MOX_EMU_ORDER, MOX_EMU_WORKERS,\n"
          "MOX_EMU_SEED, MOX_EMU_STACK_KB); timings use whatever they say (default: forward order,\n"
          "1 worker). With one worker, times are the thread's CPU time (robust on a busy machine);\n"
          "with more, wall time. Each figure is the median of several runs.\n");
      return 0;
    }
    std::fprintf(stderr, "mox_emu_bench: unknown argument %s (try --help)\n", argv[i]);
    return 2;
  }
  namespace ex = mox::emu::examples;
  std::printf("options: %s; times are %s\n", mox::emu::describe(mox::emu::options()).c_str(),
              use_cpu_time() ? "CPU time of the one worker thread" : "wall time");

  std::printf("switch: %.1f ns (emulator), %.1f ns (swapcontext)\n", emu_switch_ns(2000000),
              ucontext_switch_ns(200000));

  int* out = nullptr;
  cudaMalloc(&out, 1024 * sizeof(int));
  for (int threads : {256, 1024}) {
    const int rounds = 2000;
    const double s = median_time(5, [&] { MOX_LAUNCH(1, threads, 0, nullptr, barrier_kernel)(rounds, out); });
    std::printf("barrier: %.1f ns per thread per barrier (%d-thread block)\n",
                s * 1e9 / (double(threads) * rounds), threads);
  }
  const double launch = median_time(201, [] { MOX_LAUNCH(1, 32, 0, nullptr, empty_kernel)(); });
  std::printf("launch: %.1f us (empty kernel, 1 block of 32 threads)\n", launch * 1e6);

  const int n = 128;
  std::vector<float> a(size_t(n) * n), b(size_t(n) * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 13) * 0.1f, b[i] = float(i % 7) * 0.2f;
  float* dA = device_copy(a);
  float* dB = device_copy(b);
  float* dC = device_copy(std::vector<float>(size_t(n) * n));
  const double sgemm = median_time(7, [&] {
    ex::sgemm(64, n, n, n, 1.0f, dA, n, dB, n, 0.0f, dC, n, nullptr);
  });
  std::printf("sgemm 128^3: %.2f ms (%.2f GFLOP/s)\n", sgemm * 1e3, 2.0 * n * n * n / sgemm * 1e-9);

  const int m = 1 << 20;
  float* dx = device_copy(std::vector<float>(size_t(m), 1.0f));
  float* partials = device_copy(std::vector<float>(size_t(ex::sum_blocks(m))));
  float* sum = device_copy(std::vector<float>(1));
  const double reduce = median_time(7, [&] { ex::sum(m, dx, partials, sum, nullptr); });
  float total = 0;
  cudaMemcpy(&total, sum, sizeof total, cudaMemcpyDeviceToHost);
  std::printf("reduce 1M: %.2f ms (sum %.0f)\n", reduce * 1e3, double(total));

  auto& w = d::Worker::get();
  const size_t fibers = w.pooled_fibers();
  std::printf("memory/fiber: %zu bytes stack reserved (+%zu guard), %zu bytes resident, %zu bytes record "
              "(%zu fibers pooled on this worker)\n",
              mox::emu::options().stack_bytes, d::page_size(),
              fibers ? w.resident_stack_bytes() / fibers : 0, sizeof(d::Fiber), fibers);
  for (void* p : {static_cast<void*>(out), static_cast<void*>(dA), static_cast<void*>(dB),
                  static_cast<void*>(dC), static_cast<void*>(dx), static_cast<void*>(partials),
                  static_cast<void*>(sum)})
    cudaFree(p);
  return cudaGetLastError() == cudaSuccess ? 0 : 1;
}
