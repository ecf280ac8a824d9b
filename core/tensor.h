// Tensor: a cheap, ref-counted handle to a TensorImpl {storage, sizes, strides, offset, dtype,
// autograd state}. Views share storage. Only tensors that take part in autograd carry an
// AutogradMeta. The ops themselves are free functions declared in core/ops.h; the methods here
// are the PyTorch-style spellings of the common ones.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "kernels/common/dtype.h"

namespace mox {

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);

// A block of device memory. The version counts in-place writes to any view of it, so a tensor
// saved for backward can tell it was overwritten.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
  std::atomic<uint64_t> version{0};
  bool owned = true;  // false: wraps caller memory (from_blob), never freed here

  Storage(size_t nbytes, Device device);
  Storage(void* data, size_t nbytes, Device device);  // borrow
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Tensor;
struct Node;
using TensorList = std::vector<Tensor>;

struct AutogradMeta;
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes, strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;
  bool is_view = false;
  std::unique_ptr<AutogradMeta> autograd;  // null for tensors outside autograd
  ~TensorImpl();
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  // --- metadata
  int64_t dim() const { return int64_t(ref().sizes.size()); }
  const Shape& sizes() const { return ref().sizes; }
  const Shape& shape() const { return ref().sizes; }
  const Shape& strides() const { return ref().strides; }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t numel() const;
  int64_t offset() const { return ref().offset; }
  DType dtype() const { return ref().dtype; }
  Device device() const { return ref().storage->device; }
  int64_t element_size() const { return dtype_size(dtype()); }
  int64_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const std::shared_ptr<Storage>& storage() const { return ref().storage; }
  uint64_t version() const { return ref().storage->version.load(); }
  void bump_version() const { ref().storage->version.fetch_add(1); }
  std::string str() const;  // "Tensor[2, 3] f32 cpu"

  // --- data access (CPU tensors)
  void* raw_data() const;  // first element
  template <class T> T* data_ptr() const;
  double item() const;
  template <class T> T item() const { return static_cast<T>(item()); }
  std::vector<double> tolist() const;  // flattened values, row-major

  // --- autograd
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;
  std::shared_ptr<Node> grad_fn() const;
  bool is_leaf() const;
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  // Keep .grad for a non-leaf tensor too.
  void retain_grad() const;
  // Runs after a leaf's gradient was accumulated (dist/ starts allreduce from here).
  void register_hook(std::function<void(const Tensor& grad)> hook) const;
  Tensor detach() const;

  // --- conversions and copies
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0); }

  // --- views
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(const Shape& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& shape) const;
  Tensor squeeze(std::optional<int64_t> dim = std::nullopt) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;

  // --- common math spelled as methods
  Tensor sum(const Shape& dims = {}, bool keepdim = false) const;
  Tensor mean(const Shape& dims = {}, bool keepdim = false) const;
  Tensor matmul(const Tensor& other) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);

 private:
  TensorImpl& ref() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Options for the factories.
struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  bool requires_grad = false;
  TensorOptions& with(DType d) { dtype = d; return *this; }
};
inline TensorOptions opts(DType dtype, Device device = Device::cpu(), bool requires_grad = false) {
  return {dtype, device, requires_grad};
}

// --- factories
Tensor empty(const Shape& shape, TensorOptions o = {});
Tensor zeros(const Shape& shape, TensorOptions o = {});
Tensor ones(const Shape& shape, TensorOptions o = {});
Tensor full(const Shape& shape, double value, TensorOptions o = {});
Tensor arange(double start, double end, double step = 1, TensorOptions o = {});
Tensor arange(double end, TensorOptions o = {});
Tensor scalar_tensor(double value, TensorOptions o = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// Copies values (row-major) into a new tensor of the given shape and dtype.
Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions o = {});
Tensor tensor(std::initializer_list<double> values, TensorOptions o = {});
// Wraps caller-owned CPU memory without copying; the caller keeps it alive.
Tensor from_blob(void* data, const Shape& shape, DType dtype);

// Strides of a dense row-major tensor of this shape.
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
// Wraps a negative dim and checks its range; op names the caller in the error.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

template <class T> T* Tensor::data_ptr() const {
  MOX_CHECK_T(TypeError, dtype_of<T>::value == dtype(), "data_ptr", "asked for ",
              dtype_name(dtype_of<T>::value), " from a ", dtype_name(dtype()), " tensor ", str());
  return static_cast<T*>(raw_data());
}

}  // namespace mox
