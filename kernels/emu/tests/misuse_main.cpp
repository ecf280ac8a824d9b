// Misuse that ends the process, one case per run (argv[1]); built plainly, with ASan and with
// TSan. `clean` runs correct kernels (shared memory, barriers, shuffles, __syncwarp, atomics,
// dynamic shared memory) over 2 workers in random order and must pass without any report;
// the other cases each provoke one report:
//   divergent, deadlock, shuffle_exited,  the emulator's own report, then abort (plain build)
//   stack_overflow
//   shared_oob, static_shared_oob,        AddressSanitizer (ASan build): dynamic and static
//   local_oob, global_oob                 shared memory, a local array, a cudaMalloc buffer
//   race_syncthreads, race_loop,          ThreadSanitizer data race (TSan build): a transpose
//   race_syncwarp                         without its barrier, a tiled loop without its second
//                                         barrier, a warp reduction without __syncwarp
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#include <vector>

#include "kernels/cuda/mox_cuda.h"
#include "kernels/emu/tests/misuse_kernels.h"

namespace {

constexpr int kThreads = 128;

__global__ void reduce_kernel(int n, const float* in, float* out, unsigned* blocks_done) {
  __shared__ float warp_sums[kThreads / 32];
  MOX_DYNAMIC_SHARED(float, scratch);
  float v = 0.0f;
  for (int i = int(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += int(gridDim.x * blockDim.x)) v += in[i];
  scratch[threadIdx.x] = v;
  __syncwarp();
  v = scratch[threadIdx.x ^ 1u] + v;  // pairs swap through shared memory, ordered by __syncwarp
  for (int offset = 16; offset > 1; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    float s = 0.0f;
    for (int w = 0; w < kThreads / 32; ++w) s += warp_sums[w];
    out[blockIdx.x] = s;
    atomicAdd(blocks_done, 1u);
  }
}

__global__ void transpose_kernel(const float* in, float* out, int barrier) {
  __shared__ float tile[32][33];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * 32 + threadIdx.x];
  if (barrier) __syncthreads();
  out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

// A tiled loop: load a tile, barrier, use it, barrier. Without the second barrier a fast
// thread overwrites the tile while slower ones still read the previous iteration's.
__global__ void tiled_kernel(int iters, int second_barrier, const float* in, float* out) {
  __shared__ float tile[64];
  float acc = 0.0f;
  for (int k = 0; k < iters; ++k) {
    tile[threadIdx.x] = in[k * 64 + int(threadIdx.x)];
    __syncthreads();
    acc += tile[63 - threadIdx.x];
    if (second_barrier) __syncthreads();
  }
  out[threadIdx.x] = acc;
}

__global__ void warp_reduce_kernel(const int* in, int* out) {
  __shared__ int s[64];
  const int t = int(threadIdx.x);
  s[t] = in[t] + in[t + 32];
  __syncwarp();
  for (int offset = 16; offset > 0; offset >>= 1) s[t] += s[t + offset];  // no __syncwarp
  if (t == 0) *out = s[0];
}

__global__ void shared_oob_kernel(int bytes) {
  MOX_DYNAMIC_SHARED(unsigned char, buf);
  if (threadIdx.x == 0) buf[bytes] = 1;  // one past the end
}

__global__ void static_shared_oob_kernel(int index, int* out) {
  __shared__ int s[32];
  s[threadIdx.x] = int(threadIdx.x);
  __syncthreads();
  if (threadIdx.x == 0) s[index] = 1;
  out[threadIdx.x] = s[threadIdx.x];
}

__global__ void local_oob_kernel(int index, int* out) {
  int local[8];
  for (int i = 0; i < 8; ++i) local[i] = i;
  local[index] = 42;
  out[threadIdx.x] = local[threadIdx.x % 8];
}

// 256 KiB of locals on a 64 KiB fiber stack.
__global__ void stack_overflow_kernel(int* out) {
  volatile int big[64 * 1024];
  for (int i = 0; i < 64 * 1024; i += 1024) big[i] = i;
  out[threadIdx.x] = big[1024];
}

__global__ void global_oob_kernel(int n, float* x) {
  x[n + int(threadIdx.x)] = 1.0f;
}

template <class T>
T* device(const std::vector<T>& v) {
  T* p = nullptr;
  cudaMalloc(&p, v.size() * sizeof(T));
  cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
  return p;
}
template <class T>
std::vector<T> host(const T* p, size_t n) {
  std::vector<T> v(n);
  cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
  return v;
}

int clean() {
  mox::emu::Options o = mox::emu::options();
  o.workers = 2;
  o.order = mox::emu::Order::Random;
  mox::emu::ScopedOptions scoped(o);
  const int n = 20000, blocks = 16;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[size_t(i)] = float(i % 7);
  float* dx = device(x);
  float* partial = device(std::vector<float>(blocks));
  unsigned* done = device(std::vector<unsigned>(1));
  MOX_LAUNCH(blocks, kThreads, kThreads * sizeof(float), nullptr, reduce_kernel)(n, dx, partial, done);
  double got = 0, want = 0;
  for (float v : host(partial, blocks)) got += v;
  for (float v : x) want += v;
  const unsigned blocks_done = host(done, 1)[0];
  std::vector<float> in(1024), t(1024);
  for (int i = 0; i < 1024; ++i) in[size_t(i)] = float(i);
  float* din = device(in);
  float* dout = device(t);
  MOX_LAUNCH(1, dim3(32, 32), 0, nullptr, transpose_kernel)(din, dout, 1);
  t = host(dout, 1024);
  float* tiled_in = device(std::vector<float>(4 * 64, 1.0f));
  float* tiled_out = device(std::vector<float>(64));
  MOX_LAUNCH(1, 64, 0, nullptr, tiled_kernel)(4, 1, tiled_in, tiled_out);
  const std::vector<float> tiled = host(tiled_out, 64);
  bool ok = got == want && blocks_done == unsigned(blocks) && cudaGetLastError() == cudaSuccess;
  for (float v : tiled) ok = ok && v == 4.0f;
  for (int r = 0; r < 32; ++r)
    for (int c = 0; c < 32; ++c) ok = ok && t[size_t(c * 32 + r)] == in[size_t(r * 32 + c)];
  for (void* p : {static_cast<void*>(dx), static_cast<void*>(partial), static_cast<void*>(done),
                  static_cast<void*>(din), static_cast<void*>(dout), static_cast<void*>(tiled_in),
                  static_cast<void*>(tiled_out)})
    cudaFree(p);
  std::printf("clean: %s (sum %g, want %g)\n", ok ? "ok" : "WRONG", got, want);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // abort() after a report ends the process with a status CTest can read, not a signal.
  std::signal(SIGABRT, [](int) { _exit(134); });
  const char* mode = argc > 1 ? argv[1] : "";
  std::vector<int> ints(64, 1);
  int* dints = device(ints);
  if (!std::strcmp(mode, "clean")) return clean();
  if (!std::strcmp(mode, "divergent")) MOX_LAUNCH(1, 64, 0, nullptr, divergent_kernel)();
  else if (!std::strcmp(mode, "deadlock")) MOX_LAUNCH(1, 64, 0, nullptr, deadlock_kernel)(dints);
  else if (!std::strcmp(mode, "shuffle_exited")) MOX_LAUNCH(1, 32, 0, nullptr, shuffle_exited_kernel)(dints);
  else if (!std::strcmp(mode, "shared_oob")) MOX_LAUNCH(1, 32, 1000, nullptr, shared_oob_kernel)(1000);
  else if (!std::strcmp(mode, "stack_overflow"))
    MOX_LAUNCH(1, 32, 0, nullptr, stack_overflow_kernel)(dints);
  else if (!std::strcmp(mode, "static_shared_oob"))
    MOX_LAUNCH(1, 32, 0, nullptr, static_shared_oob_kernel)(32, dints);
  else if (!std::strcmp(mode, "local_oob")) MOX_LAUNCH(1, 32, 0, nullptr, local_oob_kernel)(8, dints);
  else if (!std::strcmp(mode, "global_oob")) {
    float* x = device(std::vector<float>(100));
    MOX_LAUNCH(1, 32, 0, nullptr, global_oob_kernel)(100, x);
  } else if (!std::strcmp(mode, "race_syncthreads")) {
    float* in = device(std::vector<float>(1024, 1.0f));
    float* out = device(std::vector<float>(1024));
    MOX_LAUNCH(1, dim3(32, 32), 0, nullptr, transpose_kernel)(in, out, 0);
  } else if (!std::strcmp(mode, "race_loop")) {
    float* in = device(std::vector<float>(4 * 64, 1.0f));
    float* out = device(std::vector<float>(64));
    MOX_LAUNCH(1, 64, 0, nullptr, tiled_kernel)(4, 0, in, out);
  } else if (!std::strcmp(mode, "race_syncwarp")) {
    int* out = device(std::vector<int>(1));
    MOX_LAUNCH(1, 32, 0, nullptr, warp_reduce_kernel)(dints, out);
  } else {
    std::fprintf(stderr, "usage: %s clean|divergent|deadlock|shuffle_exited|stack_overflow|shared_oob|"
                         "static_shared_oob|local_oob|"
                         "global_oob|race_syncthreads|race_loop|race_syncwarp\n", argv[0]);
    return 2;
  }
  std::printf("%s: no report\n", mode);
  return 1;
}
