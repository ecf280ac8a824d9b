// Caching allocators, one per device type. Freed blocks go to a free list keyed by their
// rounded size and are handed out again, so a training loop that allocates the same shapes
// every step stops calling the system allocator after the first step. A request with no block
// of its size cached takes the smallest cached block of up to twice its size, so memory freed
// by one kind of tensor (a step's gradients) serves another (the next step's activations)
// instead of sitting in its own list while the process asks the system for more. CPU blocks
// are 64-byte aligned. Current, peak and cached byte counts are queryable (benchmarks report
// them); a block serving a smaller request counts with its own size.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace mox {

struct MemoryStats {
  int64_t current_bytes = 0;  // handed out and not yet freed
  int64_t peak_bytes = 0;     // highest current_bytes since the last reset
  int64_t cached_bytes = 0;   // held in free lists
  int64_t system_allocs = 0;  // calls that reached the device's own allocator
};

void* allocate(Device device, size_t nbytes);
void deallocate(Device device, void* ptr, size_t nbytes);
MemoryStats memory_stats(Device device);
void reset_peak_memory(Device device);
// Returns every cached block to the system.
void empty_cache(Device device);

// Number of usable devices of a type; 0 for CUDA when Mox has no CUDA or no GPU is present.
int device_count(DeviceType type);
void synchronize(Device device);

}  // namespace mox
