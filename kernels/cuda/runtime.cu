// Device memory for the CUDA device type: the DeviceRuntime entry that core/allocator.cpp caches
// on top of (cudaMalloc / cudaFree), Tensor::to(Device) copies with (cudaMemcpy), and
// mox::device_count / mox::synchronize ask. A machine without a GPU or without a usable driver
// has 0 devices; every other CUDA failure becomes a std::runtime_error naming the call.
#include "kernels/cuda/common.cuh"
#include "kernels/runtime.h"

namespace mox::cuda {

int device_count() {
  static const int count = [] {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cudaGetLastError();  // clear it so the next call does not report it
      return 0;
    }
    return n;
  }();
  return count;
}

namespace {

// The device a guard should switch to: none when there is only one.
int target(int device) { return device_count() > 1 ? device : -1; }

// nullptr when the device is out of memory (the allocator then frees its cache and retries).
void* device_malloc(size_t nbytes, int device) {
  DeviceGuard guard(target(device));
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, nbytes ? nbytes : 1);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;
  }
  check(err, "cudaMalloc");
  return p;
}

void device_free(void* ptr, int device) {
  if (!ptr) return;
  DeviceGuard guard(target(device));
  cudaError_t err = cudaFree(ptr);
  // During process exit the runtime may already be gone; the memory went with it.
  if (err != cudaErrorCudartUnloading) check(err, "cudaFree");
}

cudaMemcpyKind kind_of(CopyKind kind) {
  switch (kind) {
    case CopyKind::HostToHost: return cudaMemcpyHostToHost;
    case CopyKind::HostToDevice: return cudaMemcpyHostToDevice;
    case CopyKind::DeviceToHost: return cudaMemcpyDeviceToHost;
    case CopyKind::DeviceToDevice: return cudaMemcpyDeviceToDevice;
  }
  return cudaMemcpyDefault;
}

// Synchronous with the host for host memory on either side; device-to-device copies are
// ordered after the kernels already queued on the default stream.
void device_memcpy(void* dst, const void* src, size_t nbytes, CopyKind kind) {
  if (nbytes == 0) return;
  check(cudaMemcpy(dst, src, nbytes, kind_of(kind)), "cudaMemcpy");
}

void device_synchronize(int device) {
  DeviceGuard guard(target(device));
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace

MOX_REGISTER_RUNTIME(CUDA, DeviceRuntime{device_malloc, device_free, device_memcpy, device_count,
                                         device_synchronize});

}  // namespace mox::cuda
