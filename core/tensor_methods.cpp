// Tensor's method spellings of ops declared in core/ops.h.
#include "core/ops.h"

namespace mox {

Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return mox::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const { return mox::mean(*this, dims, keepdim); }
Tensor Tensor::matmul(const Tensor& o) const { return mox::matmul(*this, o); }
Tensor Tensor::pow(double e) const { return mox::pow(*this, e); }
Tensor Tensor::exp() const { return mox::exp(*this); }
Tensor Tensor::log() const { return mox::log(*this); }
Tensor Tensor::sqrt() const { return mox::sqrt(*this); }
Tensor Tensor::abs() const { return mox::abs(*this); }
Tensor Tensor::relu() const { return mox::relu(*this); }
Tensor Tensor::sigmoid() const { return mox::sigmoid(*this); }
Tensor Tensor::tanh() const { return mox::tanh(*this); }
Tensor Tensor::argmax(int64_t dim, bool keepdim) const { return mox::argmax(*this, dim, keepdim); }
Tensor& Tensor::add_(const Tensor& o, double alpha) { return mox::add_(*this, o, alpha); }
Tensor& Tensor::sub_(const Tensor& o) { return mox::sub_(*this, o); }
Tensor& Tensor::mul_(const Tensor& o) { return mox::mul_(*this, o); }
Tensor& Tensor::div_(const Tensor& o) { return mox::div_(*this, o); }
Tensor& Tensor::add_(double v) { return mox::add_(*this, scalar_tensor(v, opts(dtype(), device()))); }
Tensor& Tensor::mul_(double v) { return mox::mul_(*this, scalar_tensor(v, opts(dtype(), device()))); }

}  // namespace mox
