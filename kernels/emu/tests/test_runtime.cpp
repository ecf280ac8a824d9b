// The host runtime: allocation tracking and the checks it allows, copies and memsets, errors
// and cudaGetLastError, streams, events, device properties and attributes, pointer
// attributes, __constant__ memory through cudaMemcpyToSymbol, launches on streams.
#include <thread>

#include "kernels/emu/tests/helpers.h"

using namespace emu_test;

namespace {

__constant__ float kScale[4];

__global__ void scale_kernel(int n, float* x) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) x[i] *= kScale[i % 4];
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("runtime: allocation and copies and memset with their checks") {
  check(cudaGetLastError());
  float* d = nullptr;
  check(cudaMalloc(&d, 100 * sizeof(float)));
  CHECK(reinterpret_cast<uintptr_t>(d) % 256 == 0);
  std::vector<float> h(100, 1.5f), back(100, 0.0f);
  check(cudaMemcpy(d, h.data(), 400, cudaMemcpyHostToDevice));
  check(cudaMemcpy(back.data(), d, 400, cudaMemcpyDeviceToHost));
  CHECK(back == h);
  check(cudaMemset(d, 0, 400));
  check(cudaMemcpy(back.data(), d, 400, cudaMemcpyDeviceToHost));
  CHECK(back == std::vector<float>(100, 0.0f));
  float* d2 = nullptr;
  check(cudaMalloc(reinterpret_cast<void**>(&d2), 400));
  check(cudaMemcpy(d2, d, 400, cudaMemcpyDeviceToDevice));
  check(cudaMemcpy(d2, h.data(), 400, cudaMemcpyDefault));

  // Past the end of an allocation, host memory named as device memory and the reverse fail.
  CHECK(cudaMemcpy(d + 50, h.data(), 400, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(back.data(), h.data(), 400, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(d, d2, 400, cudaMemcpyHostToDevice) == cudaErrorInvalidValue);
  CHECK(cudaMemset(d + 99, 0, 8) == cudaErrorInvalidValue);
  CHECK(cudaMemset(h.data(), 0, 8) == cudaErrorInvalidValue);
  CHECK(cudaMemcpy(d, h.data(), 4, cudaMemcpyKind(7)) == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaFree(h.data()) == cudaErrorInvalidValue);
  // Errors stay until read, then clear.
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaSuccess);

  std::vector<float> pitched(3 * 8, 0.0f);
  check(cudaMemcpy2D(d, 10 * sizeof(float), h.data(), 8 * sizeof(float), 4 * sizeof(float), 3,
                     cudaMemcpyHostToDevice));
  check(cudaMemcpy2D(pitched.data(), 8 * sizeof(float), d, 10 * sizeof(float), 4 * sizeof(float), 3,
                     cudaMemcpyDeviceToHost));
  CHECK(pitched[8] == 1.5f);
  CHECK(pitched[5] == 0.0f);

  check(cudaFree(d));
  check(cudaFree(d2));
  check(cudaFree(nullptr));
  CHECK(cudaFree(d) == cudaErrorInvalidValue);  // double free
  cudaGetLastError();

  float* host = nullptr;
  check(cudaMallocHost(&host, 64));
  float* managed = nullptr;
  check(cudaMallocManaged(&managed, 64));
  cudaPointerAttributes attr{};
  check(cudaPointerGetAttributes(&attr, host + 3));
  CHECK(attr.type == cudaMemoryTypeHost);
  check(cudaPointerGetAttributes(&attr, managed));
  CHECK(attr.type == cudaMemoryTypeManaged);
  check(cudaPointerGetAttributes(&attr, back.data()));
  CHECK(attr.type == cudaMemoryTypeUnregistered);
  CHECK(cudaFree(host) == cudaErrorInvalidValue);  // pinned memory goes through cudaFreeHost
  cudaGetLastError();
  check(cudaFreeHost(host));
  check(cudaFree(managed));
}

TEST_CASE("runtime: the last error is per host thread") {
  cudaGetLastError();
  CHECK(cudaSetDevice(3) == cudaErrorInvalidDevice);
  cudaError_t other = cudaErrorUnknown;
  std::thread([&] { other = cudaGetLastError(); }).join();
  CHECK(other == cudaSuccess);
  CHECK(cudaGetLastError() == cudaErrorInvalidDevice);
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidDevice)) == "invalid device ordinal");
  CHECK(std::string(cudaGetErrorName(cudaErrorInvalidConfiguration)) == "cudaErrorInvalidConfiguration");
}

TEST_CASE("runtime: device properties and attributes") {
  int n = 0, dev = -1;
  check(cudaGetDeviceCount(&n));
  CHECK(n == 1);
  check(cudaGetDevice(&dev));
  CHECK(dev == 0);
  check(cudaSetDevice(0));
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, 0));
  CHECK(p.warpSize == 32);
  CHECK(p.maxThreadsPerBlock == 1024);
  CHECK(p.major * 10 + p.minor == 90);
  int v = 0;
  check(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0));
  CHECK(v == int(p.sharedMemPerBlockOptin));
  check(cudaDeviceGetAttribute(&v, cudaDevAttrWarpSize, 0));
  CHECK(v == 32);
  CHECK(cudaGetDeviceProperties(&p, 1) == cudaErrorInvalidDevice);
  cudaGetLastError();
  size_t free_bytes = 0, total = 0;
  check(cudaMemGetInfo(&free_bytes, &total));
  CHECK(total > 0);
  int blocks = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, scale_kernel, 256, 0));
  CHECK(blocks == 8);
  check(cudaDeviceSynchronize());
}

TEST_CASE("runtime: streams and events and __constant__ memory") {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start));
  check(cudaEventCreateWithFlags(&stop, cudaEventDefault));
  float ms = -1;
  CHECK(cudaEventElapsedTime(&ms, start, stop) == cudaErrorInvalidResourceHandle);  // not recorded
  cudaGetLastError();

  const float scale[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  check(cudaMemcpyToSymbol(kScale, scale, sizeof scale));
  float check_back[4] = {};
  check(cudaMemcpyFromSymbol(check_back, kScale, sizeof check_back));
  CHECK(check_back[3] == 4.0f);
  CHECK(cudaMemcpyToSymbol(kScale, scale, sizeof scale, 4) == cudaErrorInvalidValue);
  cudaGetLastError();

  const int n = 1000;
  Buffer<float> x(std::vector<float>(n, 1.0f));
  check(cudaEventRecord(start, s));
  MOX_LAUNCH((n + 255) / 256, 256, 0, s, scale_kernel)(n, x.get());
  check(cudaGetLastError());
  check(cudaMemsetAsync(x.get(), 0, sizeof(float), s));
  check(cudaEventRecord(stop, s));
  check(cudaStreamWaitEvent(nullptr, stop));
  check(cudaEventSynchronize(stop));
  check(cudaEventElapsedTime(&ms, start, stop));
  CHECK(ms >= 0.0f);
  check(cudaStreamSynchronize(s));
  check(cudaStreamQuery(s));
  const std::vector<float> got = x.download();
  CHECK(got[0] == 0.0f);
  for (int i = 1; i < n; ++i) REQUIRE(got[size_t(i)] == scale[i % 4]);

  check(cudaEventDestroy(start));
  check(cudaEventDestroy(stop));
  check(cudaStreamDestroy(s));
  CHECK(cudaStreamDestroy(s) == cudaErrorInvalidResourceHandle);
  CHECK(cudaStreamSynchronize(s) == cudaErrorInvalidResourceHandle);
  cudaGetLastError();
  check(cudaStreamSynchronize(cudaStreamPerThread));
}

}  // TEST_SUITE
