// Sequential: layers applied in order, named like Keras ("conv2d", "dense", "dense_1", ...),
// with build(input_shape) to create lazily sized parameters and summary() printing Keras's
// table of layers, output shapes and parameter counts.
#pragma once
#include <iosfwd>

#include "nn/module.h"

namespace mox::nn {

class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<ModulePtr> layers);
  Sequential& add(ModulePtr layer);
  template <class M, class... Args>
  Sequential& emplace(Args&&... args) {
    return add(std::make_shared<M>(std::forward<Args>(args)...));
  }

  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

  // Runs one sample of shape input_shape (no batch dim) through the layers so every layer
  // creates its parameters and records its output shape.
  Sequential& build(const Shape& input_shape);
  bool built() const { return !output_shapes_.empty(); }
  const Shape& input_shape() const { return input_shape_; }
  // The Keras-style table; needs build().
  void summary(std::ostream& os) const;
  std::string summary() const;

 private:
  Shape input_shape_;
  std::vector<Shape> output_shapes_;  // per layer, batch dim excluded
};

// "MaxPooling2D" -> "max_pooling2d": Keras's default layer names.
std::string snake_case(const std::string& type_name);

}  // namespace mox::nn
