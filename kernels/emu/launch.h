// Kernel launch: MOX_LAUNCH(grid, block, smem, stream, kernel)(args...) replaces
// kernel<<<grid, block, smem, stream>>>(args...), and MOX_DYNAMIC_SHARED(T, name) replaces
// `extern __shared__ T name[]`. A launch checks the configuration like CUDA (an invalid one
// sets cudaErrorInvalidConfiguration for cudaGetLastError and runs nothing), then runs every
// block to completion before returning: on the calling thread with one worker, spread over the
// calling thread and a pool of helper threads with more.
#pragma once

#include <condition_variable>
#include <numeric>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/emu/runtime.h"
#include "kernels/emu/scheduler.h"

namespace mox::emu::detail {

// Helper threads for launches with more than one worker; they live until the process ends.
class Pool {
 public:
  static Pool& get() {
    static Pool p;
    return p;
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Runs L on the calling thread and workers - 1 helpers; returns when all are done.
  void run(Launch& L, int workers) {
    const int helpers = workers - 1;
    {
      std::lock_guard<std::mutex> lock(m_);
      while (int(threads_.size()) < helpers) {
        const int index = int(threads_.size());
        threads_.emplace_back([this, index] { loop(index); });
      }
      job_ = &L;
      want_ = helpers;
      busy_ = helpers;
      ++generation_;
    }
    cv_.notify_all();
    Worker::get().run(L);
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [&] { return busy_ == 0; });
    job_ = nullptr;
  }

 private:
  Pool() = default;

  void loop(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(m_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
      if (index >= want_) continue;
      Launch* L = job_;
      lock.unlock();
      Worker::get().run(*L);
      lock.lock();
      if (--busy_ == 0) done_.notify_all();
    }
  }

  std::mutex m_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> threads_;
  Launch* job_ = nullptr;
  int want_ = 0, busy_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
};

inline std::mutex& launch_mutex() {
  static std::mutex m;
  return m;
}

// The configuration error of a launch, or cudaSuccess.
inline cudaError_t check_config(const void* kernel, dim3 g, dim3 b, size_t smem) {
  const uint64_t threads = uint64_t(b.x) * b.y * b.z;
  if (!g.x || !g.y || !g.z || !threads) return cudaErrorInvalidConfiguration;
  if (threads > 1024 || b.x > 1024 || b.y > 1024 || b.z > 64) return cudaErrorInvalidConfiguration;
  if (g.x > 2147483647u || g.y > 65535 || g.z > 65535) return cudaErrorInvalidConfiguration;
  if (smem > size_t(runtime().max_dynamic_smem(kernel))) return cudaErrorInvalidConfiguration;
  return cudaSuccess;
}

inline void launch(const char* name, const void* kernel, dim3 g, dim3 b, size_t smem,
                   void (*body)(const void*), const void* args) {
  if (Worker* w = tls_worker; w && w->current())
    throw FiberMisuse("invalid launch", std::string("kernel ") + name +
                                            " launched from inside a kernel (dynamic "
                                            "parallelism is not emulated)");
  if (cudaError_t e = check_config(kernel, g, b, smem); e != cudaSuccess) {
    runtime().set_error(e);
    return;
  }
  std::lock_guard<std::mutex> serial(launch_mutex());
  Launch L;
  L.name = name;
  L.grid = g;
  L.block = b;
  L.smem = smem;
  L.body = body;
  L.args = args;
  L.opts = options();
#if defined(MOX_EMU_ASAN)
  L.opts.workers = 1;  // static __shared__ arrays are process-wide statics under ASan (types.h)
#endif
  L.nblocks = uint64_t(g.x) * g.y * g.z;
  L.nthreads = b.x * b.y * b.z;
  if (L.opts.order == Order::Random) {
    uint64_t s = L.opts.seed;
    if (L.nblocks <= (uint64_t(1) << 22)) {
      L.perm.resize(L.nblocks);
      std::iota(L.perm.begin(), L.perm.end(), 0u);
      for (uint64_t i = L.nblocks; i > 1; --i) std::swap(L.perm[i - 1], L.perm[splitmix(s) % i]);
    } else {
      do L.perm_a = splitmix(s) % L.nblocks | 1;
      while (std::gcd(L.perm_a, L.nblocks) != 1);
      L.perm_b = splitmix(s) % L.nblocks;
    }
  }
  tsan_release(&L.tsan_begin);
  const int workers = int(std::min<uint64_t>(uint64_t(std::max(1, L.opts.workers)), L.nblocks));
  if (workers == 1) Worker::get().run(L);
  else Pool::get().run(L, workers);
  tsan_acquire(&L.tsan_end);
  if (L.error) std::rethrow_exception(L.error);
}

template <class... P>
class Launcher {
 public:
  Launcher(void (*kernel)(P...), const char* name, dim3 g, dim3 b, size_t smem, cudaStream_t s)
      : kernel_(kernel), name_(name), grid_(g), block_(b), smem_(smem), stream_(s) {}

  template <class... A>
  void operator()(A&&... a) const {
    static_assert(sizeof...(A) == sizeof...(P), "MOX_LAUNCH: wrong number of kernel arguments");
    if (!runtime().valid_stream(stream_)) {
      runtime().set_error(cudaErrorInvalidResourceHandle);
      return;
    }
    // Arguments are converted to the parameter types once, like CUDA's parameter buffer;
    // each thread gets its own copies when the kernel is called.
    Frame frame{kernel_, std::tuple<std::decay_t<P>...>(std::forward<A>(a)...)};
    launch(name_, reinterpret_cast<const void*>(kernel_), grid_, block_, smem_, &body, &frame);
  }

 private:
  struct Frame {
    void (*kernel)(P...);
    std::tuple<std::decay_t<P>...> args;
  };
  static void body(const void* p) {
    const Frame& f = *static_cast<const Frame*>(p);
    std::apply(f.kernel, f.args);
  }

  void (*kernel_)(P...);
  const char* name_;
  dim3 grid_, block_;
  size_t smem_;
  cudaStream_t stream_;
};

template <class... P>
Launcher<P...> make_launcher(void (*kernel)(P...), const char* name, dim3 g, dim3 b, size_t smem,
                             cudaStream_t s) {
  return Launcher<P...>(kernel, name, g, b, smem, s);
}

// The block's dynamic shared memory (MOX_DYNAMIC_SHARED).
inline unsigned char* dynamic_shared() {
  Worker* w = tls_worker;
  if (!w || !w->current()) fatal("MOX_DYNAMIC_SHARED used outside a kernel");
  return w->smem();
}

}  // namespace mox::emu::detail

#define MOX_LAUNCH(grid, block, smem, stream, ...)                                         \
  ::mox::emu::detail::make_launcher(__VA_ARGS__, #__VA_ARGS__, (grid), (block), (smem), \
                                    (stream))

#define MOX_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::mox::emu::detail::dynamic_shared())
