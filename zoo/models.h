// The small Keras-style models `mox train` uses by name (mnist_cnn, softmax_regression);
// the NetworkKeys registry (resnet_v1_50, ...) is zoo/zoo.h.
#pragma once
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace mox::zoo {

struct MnistModelMeta {
  std::string name, description;
  Shape default_input_shape;  // without the batch dim, NCHW
};

// "mnist_cnn": the Keras MNIST CNN (Conv 32 3x3 relu, Conv 64 3x3 relu, MaxPool 2, Dropout .25,
//   Flatten, Dense 128 relu, Dropout .5, Dense num_classes), input [1, 28, 28];
// "softmax_regression": Flatten, Dense num_classes, input [1, 28, 28].
// Returns the model built (parameters created); unknown names raise mox::Error listing the names.
std::shared_ptr<nn::Sequential> get_model(const std::string& name, int64_t num_classes);
MnistModelMeta get_mnist_model_meta(const std::string& name);
std::vector<std::string> model_names();

}  // namespace mox::zoo
