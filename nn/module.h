// Module: the base of every layer and model. It owns named parameters, buffers (state that
// is saved but not trained, like batch norm's running statistics) and child modules, in
// registration order, and gives them dotted names ("features.0.weight") for state dicts.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"

namespace mox::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
  // The layer's type as summary() shows it ("Conv2D", "Dense", ...).
  virtual std::string type_name() const = 0;

  NamedTensors named_parameters(bool recurse = true) const;
  TensorList parameters(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  int64_t num_parameters(bool trainable_only = false) const;

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Freezes or unfreezes every parameter (non-trainable parameters get no gradient).
  void set_trainable(bool on);

  // Moves or casts parameters and buffers in place (parameters stay leaves). Parameters a
  // lazily sized layer creates later take the same device and floating dtype.
  Module& to(Device device);
  Module& to(DType dtype);

  // Parameters and buffers by dotted name.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in; strict: every name must match both ways. Shape and dtype mismatches
  // raise mox::Error naming the entry.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  void zero_grad();

  // Weight-decay penalties, decay * sum(w^2) / 2 for each decayed parameter here and below
  // (MoXing's REGULARIZATION_LOSSES collection).
  TensorList regularization_losses() const;

 protected:
  // Returns a handle to the registered tensor; to(device/dtype) keeps handles valid.
  Tensor register_parameter(const std::string& name, Tensor t, double weight_decay = 0);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  bool training_ = true;

 private:
  template <class Fn> void apply_to_tensors(Fn fn);
  DType creation_dtype() const;
  struct Param {
    std::string name;
    Tensor value;
    double weight_decay;
  };
  std::vector<Param> params_;
  NamedTensors buffers_;
  // Where register_parameter / register_buffer put floating tensors: f32 on the CPU until to().
  DType param_dtype_ = DType::f32;
  Device param_device_ = Device::cpu();
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

using ModulePtr = std::shared_ptr<Module>;

}  // namespace mox::nn
