// Per-device kernel tables (the idea of PyTorch's DispatchStub): one stub per kernel family,
// one slot per device type. Kernel libraries fill their slot at load time with
// MOX_REGISTER_KERNEL; core looks the slot up and raises mox::Error when it is empty.
#pragma once
#include <cstdint>

#include "kernels/common/device.h"
#include "kernels/common/dtype.h"

namespace mox {

template <class Fn>
struct DispatchStub {
  const char* name;
  Fn* table[kNumDeviceTypes] = {};
};

constexpr int kMaxDims = 8;

// An elementwise loop over one shape; operand k walks it with strides[k] (in elements, 0 on
// broadcast dimensions). Operand 0 is the output.
struct Loop {
  int ndim = 0;
  int64_t numel = 1;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[4][kMaxDims] = {};
  bool contiguous = false;  // every operand dense and in row-major order: a flat loop suffices
};

}  // namespace mox

// One definition per stub across the library: an inline variable in the family's header.
#define MOX_STUB(stub, Fn) inline ::mox::DispatchStub<Fn> stub{#stub}
#define MOX_REGISTER_KERNEL(stub, device, fn)                         \
  [[maybe_unused]] static const bool stub##_registered_##device = \
      (::mox::stub.table[int(::mox::DeviceType::device)] = fn, true)

