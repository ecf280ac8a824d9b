#include "nn/module.h"

#include "core/autograd/node.h"
#include "nn/var_scope.h"

namespace mox::nn {
namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  for (const Param& p : params_) out.emplace_back(p.name, p.value);
  if (recurse)
    for (const auto& [cname, child] : children_)
      for (auto& [n, t] : child->named_parameters(true)) out.emplace_back(join(cname, n), t);
  return out;
}

TensorList Module::parameters(bool recurse) const {
  TensorList out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out = buffers_;
  if (recurse)
    for (const auto& [cname, child] : children_)
      for (auto& [n, t] : child->named_buffers(true)) out.emplace_back(join(cname, n), t);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::set_trainable(bool on) {
  for (Param& p : params_) p.value.requires_grad_(on);
  for (auto& [n, c] : children_) c->set_trainable(on);
}

// Replaces each tensor's contents in place (same TensorImpl), so every handle a layer keeps
// and every optimizer that holds a parameter sees the moved or cast tensor. This module's own
// tensors only: to() recurses into the children.
template <class Fn>
void Module::apply_to_tensors(Fn fn) {
  NoGradGuard no_grad;
  auto rebind = [&](const Tensor& t) {
    Tensor n = fn(t.detach()).contiguous();
    if (n.storage() == t.storage() && n.dtype() == t.dtype()) return;
    TensorImpl* impl = t.impl();
    impl->storage = n.storage();
    impl->sizes = n.sizes();
    impl->strides = n.strides();
    impl->offset = n.offset();
    impl->dtype = n.dtype();
    if (impl->autograd) impl->autograd->grad = Tensor();
  };
  for (Param& p : params_) rebind(p.value);
  for (auto& [n, b] : buffers_) rebind(b);
}

Module& Module::to(Device device) {
  apply_to_tensors([&](const Tensor& t) { return t.to(device); });
  param_device_ = device;
  for (auto& [n, c] : children_) c->to(device);
  return *this;
}

Module& Module::to(DType dtype) {
  MOX_CHECK_T(TypeError, is_floating(dtype), "Module::to", "casts to floating dtypes only, not ",
              dtype_name(dtype));
  apply_to_tensors([&](const Tensor& t) { return t.is_floating_point() ? t.to(dtype) : t; });
  param_dtype_ = dtype;
  for (auto& [n, c] : children_) c->to(dtype);
  return *this;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out[n] = t.detach();
  for (auto& [n, t] : named_buffers()) out[n] = t;
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard no_grad;
  std::map<std::string, Tensor> mine = state_dict();
  if (strict)
    for (auto& [name, t] : state)
      MOX_CHECK(mine.count(name), "load_state_dict", "unexpected entry '", name, "' ", t.str());
  // Every entry is checked before any is copied, so a failed load changes nothing.
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  for (auto& [name, dst] : mine) {
    auto it = state.find(name);
    if (it == state.end()) {
      MOX_CHECK(!strict, "load_state_dict", "missing entry '", name, "' (expected ", dst.str(), ")");
      continue;
    }
    const Tensor& src = it->second;
    MOX_CHECK(src.defined(), "load_state_dict", "entry '", name, "' is undefined");
    MOX_CHECK_T(ShapeError, src.sizes() == dst.sizes(), "load_state_dict", "entry '", name,
                "' has shape ", shape_str(src.sizes()), " but the model expects ", shape_str(dst.sizes()));
    MOX_CHECK_T(TypeError, src.dtype() == dst.dtype() || (src.is_floating_point() && dst.is_floating_point()),
                "load_state_dict", "entry '", name, "' is ", dtype_name(src.dtype()), " but the model holds ",
                dtype_name(dst.dtype()));
    copies.emplace_back(dst, &src);  // dst shares storage with the parameter or buffer
  }
  for (auto& [dst, src] : copies) dst.copy_(*src);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

TensorList Module::regularization_losses() const {
  TensorList out;
  for (const Param& p : params_)
    if (p.weight_decay > 0) out.push_back(mul(sum(mul(p.value, p.value)), p.weight_decay / 2));
  for (const auto& [n, c] : children_)
    for (Tensor& t : c->regularization_losses()) out.push_back(t);
  return out;
}

namespace {
Tensor place(const Tensor& t, DType dtype, Device device) {
  if (!t.is_floating_point() || (t.dtype() == dtype && t.device() == device)) return t;
  NoGradGuard no_grad;
  return t.detach().to(dtype).to(device);
}
}  // namespace

// Inside a VarScope that forces a dtype, new parameters and buffers take that dtype (master
// weights) instead of the module's.
DType Module::creation_dtype() const { return VarScope::force_dtype().value_or(param_dtype_); }

Tensor Module::register_parameter(const std::string& name, Tensor t, double weight_decay) {
  MOX_CHECK(t.defined(), type_name(), "parameter '", name, "' is undefined");
  t = place(t, creation_dtype(), param_device_);
  if (!t.requires_grad()) t.requires_grad_(true);
  params_.push_back({name, t, weight_decay});
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  MOX_CHECK(t.defined(), type_name(), "buffer '", name, "' is undefined");
  t = place(t, creation_dtype(), param_device_);
  buffers_.emplace_back(name, t);
  return t;
}

}  // namespace mox::nn
