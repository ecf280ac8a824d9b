// Raw memory services per device type: allocate, free, copy, count devices. The CPU entry is
// filled by kernels/cpu/runtime.cpp, the CUDA entry by kernels/cuda/runtime.cu when Mox is
// built with CUDA. core/allocator.cpp caches on top of these.
#pragma once
#include <cstddef>

#include "kernels/dispatch.h"

namespace mox {

enum class CopyKind { HostToHost, HostToDevice, DeviceToHost, DeviceToDevice };

struct DeviceRuntime {
  void* (*malloc)(size_t nbytes, int device) = nullptr;  // nullptr on failure
  void (*free)(void* ptr, int device) = nullptr;
  void (*memcpy)(void* dst, const void* src, size_t nbytes, CopyKind kind) = nullptr;
  int (*device_count)() = nullptr;  // 0 when the driver reports none or fails
  void (*synchronize)(int device) = nullptr;
};

inline DeviceRuntime device_runtimes[kNumDeviceTypes];

}  // namespace mox

#define MOX_REGISTER_RUNTIME(device, ...)                                       \
  [[maybe_unused]] static const bool runtime_registered_##device =              \
      (::mox::device_runtimes[int(::mox::DeviceType::device)] = __VA_ARGS__, true)
