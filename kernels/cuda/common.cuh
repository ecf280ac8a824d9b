// What every CUDA kernel file shares: turning CUDA errors into C++ exceptions, the launch
// geometry and body of a grid-stride loop, and running on the device that owns an operand's
// memory.
// Kernels stay free of core headers, so errors are std::runtime_error; core wraps them.
#pragma once
#include "kernels/cuda/mox_cuda.h"  // CUDA itself under nvcc, the emulator under g++

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/cuda/indexing.h"

namespace mox::cuda {

// Throws std::runtime_error("<what>: <CUDA's message>") when err is not cudaSuccess.
inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err) + " (CUDA error " +
                             std::to_string(int(err)) + ")");
}

// After a kernel launch: reports a bad configuration or a missing device, naming the kernel.
inline void check_launch(const char* kernel) {
  check(cudaGetLastError(), (std::string("launch of ") + kernel).c_str());
}

// Number of CUDA devices (0 when the driver reports none or fails); cached after the first
// call. Defined in kernels/cuda/runtime.cu.
int device_count();

// Makes `device` current for the guard's lifetime and restores the previous one after; a
// negative device leaves the current one alone.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    if (device < 0) return;
    check(cudaGetDevice(&prev_), "cudaGetDevice");
    if (prev_ == device) return;
    check(cudaSetDevice(device), "cudaSetDevice");
    switched_ = true;
  }
  ~DeviceGuard() {
    if (switched_) cudaSetDevice(prev_);
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = 0;
  bool switched_ = false;
};

// The device whose memory ptr points into, for a DeviceGuard around a launch; -1 (stay) when
// there is at most one device, so the common case costs no driver call.
inline int device_of(const void* ptr) {
  if (device_count() <= 1) return -1;
  cudaPointerAttributes attr{};
  check(cudaPointerGetAttributes(&attr, ptr), "cudaPointerGetAttributes");
  return attr.device;
}

constexpr int kBlockSize = 256;
// Enough blocks to fill any current GPU several times over; larger inputs loop (grid stride).
constexpr int64_t kMaxBlocks = 1 << 16;

inline unsigned grid_for(int64_t n) {
  return unsigned(std::min<int64_t>((n + kBlockSize - 1) / kBlockSize, kMaxBlocks));
}

// Calls body(offsets) for every element of a loop, each thread taking a grid stride; offsets[k]
// is operand k's element offset.
template <int N, class Body>
__device__ __forceinline__ void for_each(const OffsetCalc<N>& calc, Body body) {
  const int64_t start = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  int64_t off[N];
  if (calc.contiguous) {
    for (int64_t i = start; i < calc.numel; i += step) {
      for (int k = 0; k < N; ++k) off[k] = i;
      body(off);
    }
  } else {
    for (int64_t i = start; i < calc.numel; i += step) {
      calc.strided_offsets(uint32_t(i), off);
      body(off);
    }
  }
}

}  // namespace mox::cuda
