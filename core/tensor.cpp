#include "core/tensor.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/allocator.h"
#include "core/autograd/node.h"
#include "core/ops.h"
#include "kernels/elementwise.h"
#include "kernels/runtime.h"

namespace mox {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

Storage::Storage(size_t n, Device d) : nbytes(n), device(d) {
  if (d.is_cuda())
    MOX_CHECK_T(DeviceError, d.index >= 0 && d.index < device_count(DeviceType::CUDA), "allocate",
                "device ", d.str(), " is not available (", device_count(DeviceType::CUDA),
                " CUDA devices found)");
  data = allocate(d, n);
}
Storage::Storage(void* p, size_t n, Device d) : data(p), nbytes(n), device(d), owned(false) {}
Storage::~Storage() {
  if (owned && data) deallocate(device, data, nbytes);
}

TensorImpl::~TensorImpl() = default;

TensorImpl& Tensor::ref() const {
  MOX_CHECK(impl_ != nullptr, "tensor", "use of an undefined tensor");
  return *impl_;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);
  MOX_CHECK_T(IndexError, dim >= -n && dim < n, op, "dim ", dim, " is out of range for a ",
              ndim, "-d tensor (expected in [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

int64_t Tensor::size(int64_t d) const { return sizes()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }
int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}
int64_t Tensor::numel() const { return shape_numel(sizes()); }

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    st[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (sizes()[i] == 1) continue;
    if (strides()[i] != expected) return false;
    expected *= sizes()[i];
  }
  return true;
}

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  return "Tensor" + shape_str(sizes()) + " " + dtype_name(dtype()) + " " + device().str();
}

void* Tensor::raw_data() const {
  return static_cast<char*>(storage()->data) + offset() * element_size();
}

double Tensor::item() const {
  MOX_CHECK(numel() == 1, "item", "needs a tensor with one element, got ", str());
  Tensor c = to(Device::cpu()).to(DType::f64).contiguous();
  return *c.data_ptr<double>();
}

std::vector<double> Tensor::tolist() const {
  Tensor c = to(Device::cpu()).to(DType::f64).contiguous();
  const double* p = c.data_ptr<double>();
  return std::vector<double>(p, p + c.numel());
}

// ---- autograd

bool Tensor::requires_grad() const { return ref().autograd && ref().autograd->requires_grad; }

Tensor& Tensor::requires_grad_(bool on) {
  if (on)
    MOX_CHECK_T(TypeError, is_floating_point(), "requires_grad_",
                "only floating-point tensors can require gradients, got ", str());
  MOX_CHECK_T(AutogradError, on || is_leaf(), "requires_grad_",
              "cannot turn off requires_grad on a non-leaf tensor ", str(), "; use detach()");
  if (!ref().autograd) ref().autograd = std::make_unique<AutogradMeta>();
  ref().autograd->requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return ref().autograd ? ref().autograd->grad : Tensor(); }

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined())
    MOX_CHECK_T(ShapeError, g.sizes() == sizes(), "set_grad", "gradient ", g.str(),
                " does not match tensor ", str());
  if (!ref().autograd) ref().autograd = std::make_unique<AutogradMeta>();
  ref().autograd->grad = g;
}

void Tensor::zero_grad() const {
  if (ref().autograd) ref().autograd->grad = Tensor();
}

std::shared_ptr<Node> Tensor::grad_fn() const {
  return ref().autograd ? ref().autograd->grad_fn : nullptr;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward({*this}, {grad}, retain_graph);
}

void Tensor::retain_grad() const {
  MOX_CHECK_T(AutogradError, requires_grad(), "retain_grad", "tensor ", str(),
              " does not require grad");
  if (is_leaf()) return;  // leaves keep their gradient anyway
  AutogradMeta& m = *ref().autograd;
  if (m.retains_grad) return;
  m.retains_grad = true;
  m.grad_fn->retained.emplace_back(m.output_nr, impl_);
}

void Tensor::register_hook(std::function<void(const Tensor&)> hook) const {
  MOX_CHECK_T(AutogradError, requires_grad() && is_leaf(), "register_hook",
              "hooks run after gradient accumulation, so they need a leaf that requires grad; got ",
              str());
  ref().autograd->hooks.push_back(std::move(hook));
}

Tensor Tensor::detach() const {
  auto t = std::make_shared<TensorImpl>();
  t->storage = storage();
  t->sizes = sizes();
  t->strides = strides();
  t->offset = offset();
  t->dtype = dtype();
  t->is_view = true;
  return Tensor(std::move(t));
}

// ---- conversions and copies

Tensor Tensor::to(DType d) const { return d == dtype() ? *this : cast(*this, d); }

namespace {

// Cross-device copy of a contiguous tensor's bytes.
void copy_bytes(const Tensor& dst, const Tensor& src) {
  Device dd = dst.device(), sd = src.device();
  CopyKind kind = dd.is_cpu() ? (sd.is_cpu() ? CopyKind::HostToHost : CopyKind::DeviceToHost)
                              : (sd.is_cpu() ? CopyKind::HostToDevice : CopyKind::DeviceToDevice);
  DeviceType rt_type = dd.is_cuda() ? DeviceType::CUDA : sd.type;
  const DeviceRuntime& rt = device_runtimes[int(rt_type)];
  MOX_CHECK_T(DeviceError, rt.memcpy, "to", "no runtime for ", device_type_name(rt_type));
  rt.memcpy(dst.raw_data(), src.raw_data(), size_t(src.nbytes()), kind);
}

}  // namespace

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(sizes(), opts(dtype(), d));
  if (numel() > 0) copy_bytes(out, src);
  return record_op("to_device", {*this}, out, [from = device()](const TensorList& g, auto&) {
    return TensorList{g[0].to(from)};
  });
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

// Strided copy of src into dst (same shape), converting dtype, on dst's device.
void copy_into(const Tensor& dst, const Tensor& src);

Tensor Tensor::clone() const {
  Tensor out = empty(sizes(), opts(dtype(), device()));
  copy_into(out, *this);
  return record_op("clone", {*this}, out, [](const TensorList& g, auto&) { return g; });
}

Tensor& Tensor::copy_(const Tensor& src) {
  MOX_CHECK_T(AutogradError, !needs_grad({this, &src}), "copy_",
              "in-place copy into or from a tensor that requires grad is not supported; ",
              "use it under NoGradGuard or detach()");
  Tensor s = src.sizes() == sizes() ? src : src.expand(sizes());
  if (s.device() != device()) s = s.to(device());
  copy_into(*this, s);
  bump_version();
  return *this;
}

Tensor& Tensor::fill_(double value) {
  MOX_CHECK_T(AutogradError, !(grad_mode_enabled() && requires_grad()), "fill_",
              "in-place fill of a tensor that requires grad; use NoGradGuard");
  if (is_contiguous()) {
    auto* fn = fill_stub.table[int(device().type)];
    MOX_CHECK_T(DeviceError, fn, "fill_", "no kernel for ", device().str());
    fn(dtype(), raw_data(), value, numel());
  } else {
    copy_into(*this, full({}, value, opts(dtype(), device())).expand(sizes()));
  }
  bump_version();
  return *this;
}

// ---- factories

Tensor empty(const Shape& shape, TensorOptions o) {
  for (int64_t s : shape)
    MOX_CHECK_T(ShapeError, s >= 0, "empty", "negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  int64_t n = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(size_t(n * dtype_size(o.dtype)), o.device);
  impl->sizes = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = o.dtype;
  Tensor t(std::move(impl));
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor full(const Shape& shape, double value, TensorOptions o) {
  bool rg = o.requires_grad;
  o.requires_grad = false;
  Tensor t = empty(shape, o);
  t.fill_(value);
  if (rg) t.requires_grad_(true);
  return t;
}
Tensor zeros(const Shape& shape, TensorOptions o) { return full(shape, 0, o); }
Tensor ones(const Shape& shape, TensorOptions o) { return full(shape, 1, o); }
Tensor scalar_tensor(double v, TensorOptions o) { return full({}, v, o); }
Tensor empty_like(const Tensor& t) { return empty(t.sizes(), opts(t.dtype(), t.device())); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), opts(t.dtype(), t.device())); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), opts(t.dtype(), t.device())); }
Tensor full_like(const Tensor& t, double v) { return full(t.sizes(), v, opts(t.dtype(), t.device())); }

Tensor from_vector(const std::vector<double>& values, const Shape& shape, TensorOptions o) {
  MOX_CHECK_T(ShapeError, int64_t(values.size()) == shape_numel(shape), "from_vector",
              values.size(), " values do not fill shape ", shape_str(shape));
  Tensor src = empty(shape, opts(DType::f64));
  if (!values.empty()) memcpy(src.raw_data(), values.data(), values.size() * sizeof(double));
  Tensor t = src.to(o.dtype).to(o.device);
  if (t.is_same(src)) t = src;
  if (o.requires_grad) t.requires_grad_(true);
  return t;
}

Tensor tensor(std::initializer_list<double> values, TensorOptions o) {
  return from_vector(std::vector<double>(values), {int64_t(values.size())}, o);
}

Tensor arange(double start, double end, double step, TensorOptions o) {
  MOX_CHECK(step != 0 && std::isfinite(start) && std::isfinite(end), "arange", "bad range start=",
            start, " end=", end, " step=", step);
  int64_t n = std::max<int64_t>(0, int64_t(std::ceil((end - start) / step)));
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = start + double(i) * step;
  return from_vector(v, {n}, o);
}
Tensor arange(double end, TensorOptions o) { return arange(0, end, 1, o); }

Tensor from_blob(void* data, const Shape& shape, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(data, size_t(shape_numel(shape) * dtype_size(dtype)),
                                            Device::cpu());
  impl->sizes = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace mox
