// The CUDA runtime functions, in the global namespace as in cuda_runtime.h, over the emulated
// device of runtime.h. Every failing call also becomes the thread's last error.
#pragma once

#include <algorithm>
#include <cstdio>

#include "kernels/emu/runtime.h"

inline cudaError_t cudaGetLastError() {
  cudaError_t& e = mox::emu::detail::Runtime::last_error();
  const cudaError_t r = e;
  e = cudaSuccess;
  return r;
}
inline cudaError_t cudaPeekAtLastError() { return mox::emu::detail::Runtime::last_error(); }

inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
#define MOX_EMU_ERROR_NAME(x) \
  case x: return #x;
    MOX_EMU_ERROR_NAME(cudaSuccess)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidValue)
    MOX_EMU_ERROR_NAME(cudaErrorMemoryAllocation)
    MOX_EMU_ERROR_NAME(cudaErrorInitializationError)
    MOX_EMU_ERROR_NAME(cudaErrorCudartUnloading)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidConfiguration)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidPitchValue)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidSymbol)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidMemcpyDirection)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidDeviceFunction)
    MOX_EMU_ERROR_NAME(cudaErrorNoDevice)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidDevice)
    MOX_EMU_ERROR_NAME(cudaErrorInvalidResourceHandle)
    MOX_EMU_ERROR_NAME(cudaErrorNotReady)
    MOX_EMU_ERROR_NAME(cudaErrorIllegalAddress)
    MOX_EMU_ERROR_NAME(cudaErrorLaunchOutOfResources)
    MOX_EMU_ERROR_NAME(cudaErrorAssert)
    MOX_EMU_ERROR_NAME(cudaErrorLaunchFailure)
    MOX_EMU_ERROR_NAME(cudaErrorNotSupported)
    MOX_EMU_ERROR_NAME(cudaErrorUnknown)
#undef MOX_EMU_ERROR_NAME
  }
  return "cudaErrorUnknown";
}

inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorCudartUnloading: return "driver shutting down";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidPitchValue: return "invalid pitch argument";
    case cudaErrorInvalidSymbol: return "invalid device symbol";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
    case cudaErrorAssert: return "device-side assert triggered";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unknown error";
}

// ---- device

inline cudaError_t cudaGetDeviceCount(int* n) {
  if (!n) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* d) {
  if (!d) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  *d = mox::emu::detail::runtime().device;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) {
  if (d != 0) return mox::emu::detail::runtime().set_error(cudaErrorInvalidDevice);
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaDeviceReset() { return cudaSuccess; }
inline cudaError_t cudaDriverGetVersion(int* v) {
  if (!v) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  *v = 13000;
  return cudaSuccess;
}
inline cudaError_t cudaRuntimeGetVersion(int* v) { return cudaDriverGetVersion(v); }

inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (!p) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  if (d != 0) return mox::emu::detail::runtime().set_error(cudaErrorInvalidDevice);
  *p = mox::emu::detail::device_properties();
  return cudaSuccess;
}

inline cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int d) {
  auto& rt = mox::emu::detail::runtime();
  if (!value) return rt.set_error(cudaErrorInvalidValue);
  if (d != 0) return rt.set_error(cudaErrorInvalidDevice);
  const cudaDeviceProp p = mox::emu::detail::device_properties();
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxBlockDimX: *value = p.maxThreadsDim[0]; break;
    case cudaDevAttrMaxBlockDimY: *value = p.maxThreadsDim[1]; break;
    case cudaDevAttrMaxBlockDimZ: *value = p.maxThreadsDim[2]; break;
    case cudaDevAttrMaxGridDimX: *value = p.maxGridSize[0]; break;
    case cudaDevAttrMaxGridDimY: *value = p.maxGridSize[1]; break;
    case cudaDevAttrMaxGridDimZ: *value = p.maxGridSize[2]; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = int(p.sharedMemPerBlock); break;
    case cudaDevAttrTotalConstantMemory: *value = int(p.totalConstMem); break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMaxRegistersPerBlock: *value = p.regsPerBlock; break;
    case cudaDevAttrClockRate: *value = p.clockRate; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrMemoryClockRate: *value = p.memoryClockRate; break;
    case cudaDevAttrGlobalMemoryBusWidth: *value = p.memoryBusWidth; break;
    case cudaDevAttrL2CacheSize: *value = p.l2CacheSize; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *value = p.maxThreadsPerMultiProcessor; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = int(p.sharedMemPerMultiprocessor); break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = int(p.sharedMemPerBlockOptin); break;
    case cudaDevAttrMaxBlocksPerMultiprocessor: *value = p.maxBlocksPerMultiProcessor; break;
    default: return rt.set_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

inline cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (!free_bytes || !total_bytes) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  const long avail = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  *total_bytes = mox::emu::detail::device_properties().totalGlobalMem;
  *free_bytes = avail > 0 && page > 0 ? size_t(avail) * size_t(page) : *total_bytes;
  return cudaSuccess;
}

// ---- memory

inline cudaError_t cudaMalloc(void** p, size_t n) {
  return mox::emu::detail::runtime().alloc(p, n, cudaMemoryTypeDevice);
}
inline cudaError_t cudaMallocManaged(void** p, size_t n, unsigned = cudaMemAttachGlobal) {
  return mox::emu::detail::runtime().alloc(p, n, cudaMemoryTypeManaged);
}
inline cudaError_t cudaMallocHost(void** p, size_t n) {
  return mox::emu::detail::runtime().alloc(p, n, cudaMemoryTypeHost);
}
inline cudaError_t cudaHostAlloc(void** p, size_t n, unsigned) { return cudaMallocHost(p, n); }
template <class T>
cudaError_t cudaMalloc(T** p, size_t n) {
  return cudaMalloc(reinterpret_cast<void**>(p), n);
}
template <class T>
cudaError_t cudaMallocManaged(T** p, size_t n, unsigned flags = cudaMemAttachGlobal) {
  return cudaMallocManaged(reinterpret_cast<void**>(p), n, flags);
}
template <class T>
cudaError_t cudaMallocHost(T** p, size_t n) {
  return cudaMallocHost(reinterpret_cast<void**>(p), n);
}
template <class T>
cudaError_t cudaHostAlloc(T** p, size_t n, unsigned flags) {
  return cudaHostAlloc(reinterpret_cast<void**>(p), n, flags);
}
inline cudaError_t cudaFree(void* p) { return mox::emu::detail::runtime().release(p, false); }
inline cudaError_t cudaFreeHost(void* p) { return mox::emu::detail::runtime().release(p, true); }

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind) {
  return mox::emu::detail::runtime().copy(dst, src, n, kind);
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                                   cudaStream_t s = nullptr) {
  if (!mox::emu::detail::runtime().valid_stream(s))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaMemcpy(dst, src, n, kind);
}
inline cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch,
                                size_t width, size_t height, cudaMemcpyKind kind) {
  if (width > dpitch || width > spitch)
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidPitchValue);
  for (size_t r = 0; r < height; ++r)
    if (cudaError_t e = cudaMemcpy(static_cast<char*>(dst) + r * dpitch,
                                   static_cast<const char*>(src) + r * spitch, width, kind))
      return e;
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int value, size_t n) {
  return mox::emu::detail::runtime().fill(p, value, n);
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t s = nullptr) {
  if (!mox::emu::detail::runtime().valid_stream(s))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaMemset(p, value, n);
}

// __constant__ and __device__ variables are ordinary globals here.
template <class T>
cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, size_t n, size_t offset = 0,
                               cudaMemcpyKind = cudaMemcpyHostToDevice) {
  if (offset + n > sizeof(T) || !src) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  std::memcpy(reinterpret_cast<char*>(const_cast<T*>(&symbol)) + offset, src, n);
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t n, size_t offset = 0,
                                 cudaMemcpyKind = cudaMemcpyDeviceToHost) {
  if (offset + n > sizeof(T) || !dst) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  std::memcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, n);
  return cudaSuccess;
}

inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  if (!a) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  const char* base = nullptr;
  mox::emu::detail::Runtime::Block b{};
  *a = cudaPointerAttributes{cudaMemoryTypeUnregistered, -2, nullptr, nullptr};
  if (mox::emu::detail::runtime().find(p, &base, &b)) {
    a->type = b.type;
    a->device = 0;
    a->devicePointer = b.type == cudaMemoryTypeHost ? nullptr : const_cast<void*>(p);
    a->hostPointer = b.type == cudaMemoryTypeDevice ? nullptr : const_cast<void*>(p);
  }
  return cudaSuccess;
}

// ---- streams and events

inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  if (!s) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  *s = mox::emu::detail::runtime().new_stream();
  return cudaSuccess;
}
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) { return cudaStreamCreate(s); }
inline cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!mox::emu::detail::runtime().delete_stream(s))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (!mox::emu::detail::runtime().valid_stream(s))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaStreamQuery(cudaStream_t s) { return cudaStreamSynchronize(s); }
inline cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned = 0) {
  auto& rt = mox::emu::detail::runtime();
  if (!rt.valid_stream(s) || !rt.valid_event(e)) return rt.set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

inline cudaError_t cudaEventCreate(cudaEvent_t* e) {
  if (!e) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  *e = mox::emu::detail::runtime().new_event();
  return cudaSuccess;
}
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) { return cudaEventCreate(e); }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!mox::emu::detail::runtime().delete_event(e))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr) {
  auto& rt = mox::emu::detail::runtime();
  if (!rt.valid_event(e) || !rt.valid_stream(s)) return rt.set_error(cudaErrorInvalidResourceHandle);
  e->when = std::chrono::steady_clock::now();
  e->recorded = true;
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!mox::emu::detail::runtime().valid_event(e))
    return mox::emu::detail::runtime().set_error(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}
inline cudaError_t cudaEventQuery(cudaEvent_t e) { return cudaEventSynchronize(e); }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  auto& rt = mox::emu::detail::runtime();
  if (!ms) return rt.set_error(cudaErrorInvalidValue);
  if (!rt.valid_event(start) || !rt.valid_event(end) || !start->recorded || !end->recorded)
    return rt.set_error(cudaErrorInvalidResourceHandle);
  *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
  return cudaSuccess;
}

// ---- kernels

inline cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attr, int value) {
  auto& rt = mox::emu::detail::runtime();
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || size_t(value) > mox::emu::detail::device_properties().sharedMemPerBlockOptin)
      return rt.set_error(cudaErrorInvalidValue);
    rt.set_max_dynamic_smem(kernel, value);
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  return rt.set_error(cudaErrorInvalidValue);
}
template <class... P>
cudaError_t cudaFuncSetAttribute(void (*kernel)(P...), cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}

// A rough occupancy: threads per multiprocessor and shared memory per multiprocessor shared
// out, at most 32 blocks.
template <class... P>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, void (*)(P...),
                                                          int block_size, size_t smem) {
  if (!blocks || block_size <= 0) return mox::emu::detail::runtime().set_error(cudaErrorInvalidValue);
  const cudaDeviceProp p = mox::emu::detail::device_properties();
  int n = std::min(p.maxThreadsPerMultiProcessor / block_size, p.maxBlocksPerMultiProcessor);
  if (smem) n = std::min<int>(n, int(p.sharedMemPerMultiprocessor / smem));
  *blocks = n;
  return cudaSuccess;
}
