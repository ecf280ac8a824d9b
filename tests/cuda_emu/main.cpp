// mox_cuda_emu_tests: Mox's CUDA kernels (kernels/cuda/*.cu) compiled by g++ against the CPU
// emulator of kernels/emu and linked into this program, which also holds the parity cases of
// tests/cuda/test_cuda_parity.cpp (suite "emu" here). The program links the mox shared library:
// its stubs and runtimes are inline variables, one instance per process, so the emulated
// kernels registered by this program's static initializers (which run after libmox's) are the
// ones libmox dispatches to for DeviceType::CUDA. The cases below prove that; they would fail
// if the program had its own copy of the tables or libmox's nvcc build kept its entries.
// This folder is left out of mox_tests (tests/CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <dlfcn.h>

#include "core/allocator.h"
#include "kernels/elementwise.h"
#include "kernels/runtime.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

// The load address of the object (this program or a shared library) that holds addr.
const void* object_of(const void* addr) {
  Dl_info info{};
  if (!addr || dladdr(addr, &info) == 0) return nullptr;
  return info.dli_fbase;
}

void in_this_program() {}

template <class Fn>
const void* object_of_fn(Fn* fn) {
  return object_of(reinterpret_cast<const void*>(fn));
}

}  // namespace

TEST_SUITE("emu") {

TEST_CASE("cuda emu: the emulated kernels and runtime fill the CUDA slots libmox reads") {
  const int slot = int(DeviceType::CUDA);
  const void* self = object_of_fn(&in_this_program);
  REQUIRE(self != nullptr);
  // Every CUDA entry is the one compiled into this program, not libmox's nvcc build.
  CHECK(object_of_fn(fill_stub.table[slot]) == self);
  CHECK(object_of_fn(copy_stub.table[slot]) == self);
  CHECK(object_of_fn(unary_stub.table[slot]) == self);
  CHECK(object_of_fn(unary_backward_stub.table[slot]) == self);
  CHECK(object_of_fn(binary_stub.table[slot]) == self);
  CHECK(object_of_fn(where_stub.table[slot]) == self);
  const DeviceRuntime& rt = device_runtimes[slot];
  CHECK(object_of_fn(rt.malloc) == self);
  CHECK(object_of_fn(rt.free) == self);
  CHECK(object_of_fn(rt.memcpy) == self);
  CHECK(object_of_fn(rt.device_count) == self);
  CHECK(object_of_fn(rt.synchronize) == self);
  // The CPU entries come from libmox, through the same (single) tables.
  CHECK(object_of_fn(unary_stub.table[int(DeviceType::CPU)]) != self);
  CHECK(object_of_fn(unary_stub.table[int(DeviceType::CPU)]) != nullptr);
}

TEST_CASE("cuda emu: libmox sees one emulated device and computes on it") {
  // device_count and the dispatch below run inside libmox: they read libmox's view of the
  // tables, which must be the one this program filled.
  CHECK(device_count(DeviceType::CUDA) == 1);
  Tensor x = from_vector({-2.0, -0.5, 0.0, 0.25, 1.0, 3.0}, {2, 3});
  Tensor g = x.to(Device::cuda(0));
  CHECK(g.device() == Device::cuda(0));
  Tensor y = add(exp(g), mul(g, g));
  CHECK(y.device() == Device::cuda(0));
  CHECK_ALLCLOSE(y, add(exp(x), mul(x, x)), tolerance_for(DType::f32));
}

}  // TEST_SUITE("emu")

}  // namespace mox::test
