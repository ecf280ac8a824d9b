// Shared by the emulator's tests: device buffers, running a body under every standard
// configuration (forward/reverse/random order, 1 and 2 workers), throw-mode options.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cuda/mox_cuda.h"

namespace emu_test {

inline void check(cudaError_t e) { REQUIRE_MESSAGE(e == cudaSuccess, cudaGetErrorName(e)); }

// A device allocation of n T's, freed on scope exit.
template <class T>
class Buffer {
 public:
  explicit Buffer(size_t n) : n_(n) { check(cudaMalloc(&p_, n * sizeof(T) + (n == 0))); }
  explicit Buffer(const std::vector<T>& v) : Buffer(v.size()) { upload(v); }
  ~Buffer() { cudaFree(p_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& v) {
    REQUIRE(v.size() == n_);
    check(cudaMemcpy(p_, v.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download() const {
    std::vector<T> v(n_);
    check(cudaMemcpy(v.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
  }
  void fill_bytes(int byte) { check(cudaMemset(p_, byte, n_ * sizeof(T))); }

 private:
  T* p_ = nullptr;
  size_t n_;
};

// Runs body() under each standard configuration, naming it in failure messages.
template <class F>
void for_each_config(F&& body) {
  for (const mox::emu::Options& o : mox::emu::standard_configs()) {
    mox::emu::ScopedOptions scoped(o);
    INFO("emulator: ", mox::emu::describe(o));
    body();
    check(cudaGetLastError());
  }
}

// Options that make misuse throw mox::emu::Misuse, with the given order and workers.
inline mox::emu::Options throwing(mox::emu::Order order = mox::emu::Order::Forward, int workers = 1) {
  mox::emu::Options o = mox::emu::options();
  o.on_misuse = mox::emu::OnMisuse::Throw;
  o.order = order;
  o.workers = workers;
  return o;
}

inline std::vector<float> random_floats(size_t n, unsigned seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// |a - b| <= atol + rtol * |b| for every element, reporting the first mismatch.
inline void check_close(const std::vector<float>& got, const std::vector<float>& want, float rtol,
                        float atol) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]))) {
      FAIL_CHECK("element " << i << ": got " << got[i] << ", want " << want[i]);
      return;
    }
}

}  // namespace emu_test
