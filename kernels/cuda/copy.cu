// CUDA fill and cast-copy for all eight dtypes: fill writes one value over dense memory; copy
// converts between any two dtypes (through float for f16/bf16, with the same Half/BFloat16
// conversions the CPU uses, so results match bit for bit) over dense, strided or broadcast
// operands. Versions: one grid-stride kernel per dtype (fill) or dtype pair (copy); dense loops
// index flat, strided ones through OffsetCalc (kernels/cuda/indexing.h). Launches go to the
// default stream, on the device that owns the output. Measured by bench_elementwise.
#include "kernels/cuda/common.cuh"
#include "kernels/elementwise.h"

namespace mox::cuda {
namespace {

template <class T>
__global__ void fill_kernel(T* out, T value, int64_t n) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) out[i] = value;
}

template <class O, class I>
__global__ void copy_kernel(O* out, const I* in, OffsetCalc<2> calc) {
  for_each(calc, [&](const int64_t (&o)[2]) { out[o[0]] = O(float_or_self(in[o[1]])); });
}

void fill(DType t, void* out, double value, int64_t n) {
  if (n <= 0) return;
  DeviceGuard guard(device_of(out));
  MOX_DISPATCH_ALL(t, T, {
    MOX_LAUNCH(grid_for(n), kBlockSize, 0, 0, fill_kernel<T>)(static_cast<T*>(out), T(value), n);
  });
  check_launch("fill_kernel");
}

void copy(DType ot, void* out, DType it, const void* in, const Loop& loop) {
  if (loop.numel <= 0) return;
  DeviceGuard guard(device_of(out));
  MOX_DISPATCH_ALL(ot, O, {
    MOX_DISPATCH_ALL(it, I, split_loop(loop, [&](const Loop& l, const int64_t (&o)[4]) {
      MOX_LAUNCH(grid_for(l.numel), kBlockSize, 0, 0, copy_kernel<O, I>)(
          static_cast<O*>(out) + o[0], static_cast<const I*>(in) + o[1], OffsetCalc<2>(l));
    }));
  });
  check_launch("copy_kernel");
}

}  // namespace

MOX_REGISTER_KERNEL(fill_stub, CUDA, fill);
MOX_REGISTER_KERNEL(copy_stub, CUDA, copy);

}  // namespace mox::cuda
