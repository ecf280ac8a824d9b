#include "core/allocator.h"

#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "core/error.h"
#include "kernels/runtime.h"

namespace mox {
namespace {

// Small blocks round to 64 bytes, larger ones to 4 KiB, so near sizes share a free list.
size_t round_size(size_t n) {
  if (n == 0) n = 1;
  size_t unit = n < (1u << 16) ? 64 : 4096;
  return (n + unit - 1) / unit * unit;
}

class CachingAllocator {
 public:
  explicit CachingAllocator(DeviceType type) : type_(type) {}

  void* allocate(int device, size_t nbytes) {
    size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    void* p = take_cached(device, size);
    if (!p) p = system_alloc(device, size);
    stats_.current_bytes += int64_t(size);
    if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
    return p;
  }

  void deallocate(int device, void* p, size_t nbytes) {
    size_t size = round_size(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = lent_.find(p); it != lent_.end()) {  // a larger cached block stood in
      size = it->second;
      lent_.erase(it);
    }
    free_[{device, size}].push_back(p);
    stats_.current_bytes -= int64_t(size);
    stats_.cached_bytes += int64_t(size);
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mu_);
    release_all();
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_bytes = stats_.current_bytes;
  }

 private:
  const DeviceRuntime& runtime() const {
    const DeviceRuntime& rt = device_runtimes[int(type_)];
    MOX_CHECK_T(DeviceError, rt.malloc, "allocate", "Mox was built without ",
                device_type_name(type_), " support");
    return rt;
  }

  void* system_alloc(int device, size_t size) {
    const DeviceRuntime& rt = runtime();
    void* p = rt.malloc(size, device);
    if (!p) {  // out of memory: give the cache back and try once more
      release_all();
      p = rt.malloc(size, device);
    }
    if (!p) throw DeviceError(detail::cat("allocate: out of memory on ", device_type_name(type_),
                                          ":", device, " asking for ", size, " bytes"));
    ++stats_.system_allocs;
    return p;
  }

  // A cached block of exactly size, else the smallest of up to twice size, whose size then
  // replaces size (the block goes back to its own list when freed); nullptr when there is none.
  void* take_cached(int device, size_t& size) {
    for (auto it = free_.lower_bound({device, size}); it != free_.end() && it->first.first == device &&
                                                      it->first.second <= 2 * size;
         ++it) {
      if (it->second.empty()) continue;
      void* p = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= int64_t(it->first.second);
      if (it->first.second != size) lent_[p] = size = it->first.second;
      return p;
    }
    return nullptr;
  }

  void release_all() {
    const DeviceRuntime& rt = device_runtimes[int(type_)];
    for (auto& [key, list] : free_)
      for (void* p : list) rt.free(p, key.first);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  DeviceType type_;
  std::mutex mu_;
  std::map<std::pair<int, size_t>, std::vector<void*>> free_;
  std::map<void*, size_t> lent_;  // blocks handed out for a smaller request: their own size
  MemoryStats stats_;
};

CachingAllocator& allocator(DeviceType type) {
  // Leaked on purpose: tensors in static objects may be freed after main returns.
  static CachingAllocator* allocators[kNumDeviceTypes] = {
      new CachingAllocator(DeviceType::CPU), new CachingAllocator(DeviceType::CUDA)};
  return *allocators[int(type)];
}

}  // namespace

void* allocate(Device d, size_t nbytes) { return allocator(d.type).allocate(d.index, nbytes); }
void deallocate(Device d, void* p, size_t nbytes) {
  allocator(d.type).deallocate(d.index, p, nbytes);
}
MemoryStats memory_stats(Device d) { return allocator(d.type).stats(); }
void reset_peak_memory(Device d) { allocator(d.type).reset_peak(); }
void empty_cache(Device d) { allocator(d.type).empty(); }

int device_count(DeviceType type) {
  const DeviceRuntime& rt = device_runtimes[int(type)];
  return rt.device_count ? rt.device_count() : 0;
}

void synchronize(Device d) {
  const DeviceRuntime& rt = device_runtimes[int(d.type)];
  if (rt.synchronize) rt.synchronize(d.index);
}

}  // namespace mox
