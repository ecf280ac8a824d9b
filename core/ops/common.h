// Helpers every op family uses: kernel lookup with a clear error, type promotion, device and
// dtype checks, and building the strided Loop an elementwise kernel walks.
#pragma once
#include <initializer_list>

#include "core/autograd/node.h"
#include "core/ops.h"
#include "kernels/dispatch.h"

namespace mox {

// Whether a kernel is registered for device in stub (for ops with an optional fast path).
template <class Fn>
bool has_kernel(const DispatchStub<Fn>& stub, Device device) {
  return stub.table[int(device.type)] != nullptr;
}

// The kernel registered for device in stub, or a DeviceError naming the op.
template <class Fn>
Fn* kernel(const DispatchStub<Fn>& stub, Device device, const char* op) {
  Fn* fn = stub.table[int(device.type)];
  MOX_CHECK_T(DeviceError, fn != nullptr, op, "no ", stub.name, " kernel for device ",
              device.str());
  return fn;
}

// dtype of a binary op's result (PyTorch's rules, simplified): floats beat integers, the wider
// type wins, f16 with bf16 gives f32, and a 0-d operand does not widen a tensor of its kind.
DType result_type(const Tensor& a, const Tensor& b);
DType promote_types(DType a, DType b);
// The dtype kernels compute in: f16 and bf16 compute in f32, bool in u8.
inline DType compute_type(DType t) {
  if (t == DType::boolean) return DType::u8;
  return t == DType::f16 || t == DType::bf16 ? DType::f32 : t;
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& x);
void check_defined(const char* op, const Tensor& x, const char* what);

// A Loop over shape for the given operands (operand 0 is the output); each operand's strides
// are broadcast to shape and adjacent dims that walk memory in step are merged.
Loop make_loop(const Shape& shape, std::initializer_list<const Tensor*> operands);

// Writes src (broadcastable to dst's shape, any dtype, same device) into dst's memory.
void copy_into(const Tensor& dst, const Tensor& src);

// Replaces a's value by op(a) with autograd: a keeps its storage and takes op's history.
Tensor& apply_inplace(Tensor& a, const char* name, const std::function<Tensor(const Tensor&)>& op);

}  // namespace mox
