#include "zoo/models.h"

#include "nn/layers.h"

namespace mox::zoo {

std::vector<std::string> model_names() { return {"mnist_cnn", "softmax_regression"}; }

MnistModelMeta get_mnist_model_meta(const std::string& name) {
  if (name == "mnist_cnn") return {name, "Keras MNIST CNN: two 3x3 convs, max pool, dropout, two dense", {1, 28, 28}};
  if (name == "softmax_regression") return {name, "784 -> classes softmax regression", {1, 28, 28}};
  std::string known;
  for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("get_model: unknown model '" + name + "' (" + known + ")");
}

std::shared_ptr<nn::Sequential> get_model(const std::string& name, int64_t num_classes) {
  MnistModelMeta meta = get_mnist_model_meta(name);
  MOX_CHECK(num_classes > 0, "get_model", "num_classes must be positive, got ", num_classes);
  auto m = std::make_shared<nn::Sequential>();
  if (name == "mnist_cnn") {
    m->add(std::make_shared<nn::Conv2d>(-1, 32, 3, nn::ConvOptions{.activation = "relu"}));
    m->add(std::make_shared<nn::Conv2d>(-1, 64, 3, nn::ConvOptions{.activation = "relu"}));
    m->add(std::make_shared<nn::MaxPool2d>(2));
    m->add(std::make_shared<nn::Dropout>(0.25));
    m->add(std::make_shared<nn::Flatten>());
    m->add(std::make_shared<nn::Linear>(-1, 128, nn::LinearOptions{.activation = "relu"}));
    m->add(std::make_shared<nn::Dropout>(0.5));
    m->add(std::make_shared<nn::Linear>(-1, num_classes));
  } else {
    m->add(std::make_shared<nn::Flatten>());
    m->add(std::make_shared<nn::Linear>(-1, num_classes, nn::LinearOptions{.weight_init = nn::init::zeros()}));
  }
  m->build(meta.default_input_shape);
  return m;
}

}  // namespace mox::zoo
