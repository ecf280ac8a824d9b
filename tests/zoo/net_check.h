// The check every zoo network's test runs: build by name, one training step's forward and
// backward on a small batch, shapes and gradients.
#pragma once
#include <string>
#include <vector>

#include "zoo/zoo.h"

namespace mox::test {

struct ExpectedEndPoint {
  std::string name;
  Shape shape;
};

// Builds name in TRAIN mode for num_classes with weight decay, runs a random batch of shape
// input through it and backward from cross entropy plus the regularization losses. Checks the
// logits' shape [N, num_classes], the listed end points' shapes, "logits" / "predictions",
// that the classifier's parameters carry the meta's logits pattern, and that every parameter
// got a finite gradient, not all zero for weights. Returns the model for further checks.
zoo::ModelFunction check_forward_backward(const std::string& name, const Shape& input, int64_t num_classes,
                            const std::vector<ExpectedEndPoint>& end_points);

}  // namespace mox::test
