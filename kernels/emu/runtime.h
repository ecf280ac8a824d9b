// The CUDA runtime API Mox's host code uses, implemented on the host: one emulated device
// whose memory is host memory. Device allocations are tracked, so copies and memsets that run
// past an allocation, or name host memory where device memory is expected (or the reverse),
// fail with cudaErrorInvalidValue as they would on a GPU. Everything is synchronous: a launch
// has finished when it returns, so streams and events only keep order trivially and events
// time the host. Errors are remembered per host thread for cudaGetLastError, as in CUDA.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

#include "kernels/emu/config.h"
#include "kernels/emu/runtime_types.h"

namespace mox::emu::detail {

class Runtime {
 public:
  struct Block {
    size_t size;
    cudaMemoryType type;
  };

  cudaError_t set_error(cudaError_t e) {
    if (e != cudaSuccess) last_error() = e;
    return e;
  }
  static cudaError_t& last_error() {
    thread_local cudaError_t e = cudaSuccess;
    return e;
  }

  cudaError_t alloc(void** p, size_t n, cudaMemoryType type) {
    if (!p) return set_error(cudaErrorInvalidValue);
    *p = nullptr;
    if (n == 0) return cudaSuccess;
    void* q = nullptr;
    if (posix_memalign(&q, 256, n) != 0) return set_error(cudaErrorMemoryAllocation);
    std::lock_guard<std::mutex> lock(m_);
    blocks_[static_cast<char*>(q)] = Block{n, type};
    *p = q;
    return cudaSuccess;
  }
  cudaError_t release(void* p, bool host) {
    if (!p) return cudaSuccess;
    std::lock_guard<std::mutex> lock(m_);
    auto it = blocks_.find(static_cast<char*>(p));
    if (it == blocks_.end() || (it->second.type == cudaMemoryTypeHost) != host)
      return set_error(cudaErrorInvalidValue);
    free_block(p);
    blocks_.erase(it);
    return cudaSuccess;
  }

  // The allocation holding p, if any: its base and description.
  bool find(const void* p, const char** base, Block* out) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = blocks_.upper_bound(static_cast<const char*>(p));
    if (it == blocks_.begin()) return false;
    --it;
    if (static_cast<const char*>(p) >= it->first + it->second.size) return false;
    *base = it->first;
    *out = it->second;
    return true;
  }

  // Whether [p, p + n) may be accessed as device memory (device) or host memory (!device).
  bool accessible(const void* p, size_t n, bool device) {
    const char* base = nullptr;
    Block b{};
    const bool tracked = find(p, &base, &b);
    const bool within = tracked && size_t(static_cast<const char*>(p) - base) + n <= b.size;
    if (!device) return !tracked || (b.type != cudaMemoryTypeDevice && within);
    return within && b.type != cudaMemoryTypeHost;
  }

  cudaError_t copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
    if (n == 0) return cudaSuccess;
    if (!dst || !src) return set_error(cudaErrorInvalidValue);
    bool ok = true;
    switch (kind) {
      case cudaMemcpyHostToHost: ok = accessible(dst, n, false) && accessible(src, n, false); break;
      case cudaMemcpyHostToDevice: ok = accessible(dst, n, true) && accessible(src, n, false); break;
      case cudaMemcpyDeviceToHost: ok = accessible(dst, n, false) && accessible(src, n, true); break;
      case cudaMemcpyDeviceToDevice: ok = accessible(dst, n, true) && accessible(src, n, true); break;
      case cudaMemcpyDefault: ok = in_bounds(dst, n) && in_bounds(src, n); break;
      default: return set_error(cudaErrorInvalidMemcpyDirection);
    }
    if (!ok) return set_error(cudaErrorInvalidValue);
    std::memmove(dst, src, n);
    return cudaSuccess;
  }
  // Tracked memory must hold all n bytes; untracked (host) memory is the caller's business.
  bool in_bounds(const void* p, size_t n) {
    const char* base = nullptr;
    Block b{};
    if (!find(p, &base, &b)) return true;
    return size_t(static_cast<const char*>(p) - base) + n <= b.size;
  }

  cudaError_t fill(void* p, int value, size_t n) {
    if (n == 0) return cudaSuccess;
    if (!accessible(p, n, true)) return set_error(cudaErrorInvalidValue);
    std::memset(p, value, n);
    return cudaSuccess;
  }

  // ---- streams and events: handles are checked, work is already done

  cudaStream_t new_stream() {
    std::lock_guard<std::mutex> lock(m_);
    auto* s = new CUstream_st{};
    streams_.insert(s);
    return s;
  }
  bool valid_stream(cudaStream_t s) {
    if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return true;
    std::lock_guard<std::mutex> lock(m_);
    return streams_.count(s) != 0;
  }
  bool delete_stream(cudaStream_t s) {
    std::lock_guard<std::mutex> lock(m_);
    if (!streams_.erase(s)) return false;
    delete s;
    return true;
  }
  cudaEvent_t new_event() {
    std::lock_guard<std::mutex> lock(m_);
    auto* e = new CUevent_st{};
    events_.insert(e);
    return e;
  }
  bool valid_event(cudaEvent_t e) {
    std::lock_guard<std::mutex> lock(m_);
    return events_.count(e) != 0;
  }
  bool delete_event(cudaEvent_t e) {
    std::lock_guard<std::mutex> lock(m_);
    if (!events_.erase(e)) return false;
    delete e;
    return true;
  }

  // ---- kernel attributes

  int max_dynamic_smem(const void* kernel) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = smem_limit_.find(kernel);
    return it == smem_limit_.end() ? 48 * 1024 : it->second;
  }
  void set_max_dynamic_smem(const void* kernel, int bytes) {
    std::lock_guard<std::mutex> lock(m_);
    smem_limit_[kernel] = bytes;
  }

  int device = 0;

 private:
  // Out of line, so the compiler does not follow a cudaFree of a foreign pointer (rejected
  // above) into free() and warn about it.
  [[gnu::noinline]] static void free_block(void* p) { std::free(p); }

  std::mutex m_;
  std::map<const char*, Block> blocks_;
  std::set<cudaStream_t> streams_;
  std::set<cudaEvent_t> events_;
  std::map<const void*, int> smem_limit_;
};

inline Runtime& runtime() {
  static Runtime r;
  return r;
}

inline cudaDeviceProp device_properties() {
  cudaDeviceProp p{};
  std::snprintf(p.name, sizeof p.name, "Mox CUDA emulator");
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  p.totalGlobalMem = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : size_t(1) << 34;
  p.sharedMemPerBlock = 48 * 1024;
  p.sharedMemPerBlockOptin = 227 * 1024;
  p.sharedMemPerMultiprocessor = 228 * 1024;
  p.regsPerBlock = 65536;
  p.regsPerMultiprocessor = 65536;
  p.warpSize = 32;
  p.memPitch = SIZE_MAX;
  p.maxThreadsPerBlock = 1024;
  p.maxThreadsDim[0] = 1024;
  p.maxThreadsDim[1] = 1024;
  p.maxThreadsDim[2] = 64;
  p.maxGridSize[0] = 2147483647;
  p.maxGridSize[1] = 65535;
  p.maxGridSize[2] = 65535;
  p.clockRate = 1000000;
  p.totalConstMem = 64 * 1024;
  p.major = 9;
  p.minor = 0;
  p.multiProcessorCount = options().workers;
  p.maxThreadsPerMultiProcessor = 2048;
  p.maxBlocksPerMultiProcessor = 32;
  p.l2CacheSize = 50 * 1024 * 1024;
  p.memoryBusWidth = 5120;
  p.memoryClockRate = 2619000;
  p.concurrentKernels = 1;
  p.asyncEngineCount = 1;
  p.unifiedAddressing = 1;
  p.managedMemory = 1;
  p.canMapHostMemory = 1;
  return p;
}

}  // namespace mox::emu::detail
