// Sequential: Keras's default layer names, build(input_shape), and summary() reproducing
// Keras's table for the manual's models: the hello-MNIST MLP's table as the seed prints it,
// line by line, and the CNN's parameter count (Keras's 1,199,882).
#include <sstream>

#include "nn/layers.h"
#include "nn/sequential.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

using namespace mox::nn;

// Keras's model.summary() for hello_mnist_1.py, as seeds/003 prints it (its lines 74-89; the
// seed indents each line by four spaces as a Markdown code block, removed here).
const char* kHelloMnistSummary = R"(Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
flatten (Flatten)            (None, 784)               0         
_________________________________________________________________
dense (Dense)                (None, 128)               100480    
_________________________________________________________________
dropout (Dropout)            (None, 128)               0         
_________________________________________________________________
dense_1 (Dense)              (None, 10)                1290      
=================================================================
Total params: 101,770
Trainable params: 101,770
Non-trainable params: 0
)";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    line.erase(line.find_last_not_of(' ') + 1);
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> child_names(const Module& m) {
  std::vector<std::string> out;
  for (auto& [n, c] : m.children()) out.push_back(n);
  return out;
}

std::shared_ptr<Sequential> hello_mnist() {
  auto model = std::make_shared<Sequential>();
  model->add(std::make_shared<Flatten>())
      .add(std::make_shared<Linear>(-1, 128, LinearOptions{.activation = "relu"}))
      .add(std::make_shared<Dropout>(0.2))
      .add(std::make_shared<Linear>(-1, 10, LinearOptions{.activation = "softmax"}));
  return model;
}

// seeds/000's Keras MNIST CNN, channels first.
std::shared_ptr<Sequential> mnist_cnn() {
  auto m = std::make_shared<Sequential>();
  m->emplace<Conv2d>(-1, 32, 3, ConvOptions{.activation = "relu"})
      .emplace<Conv2d>(-1, 64, 3, ConvOptions{.activation = "relu"})
      .emplace<MaxPool2d>(2)
      .emplace<Dropout>(0.25)
      .emplace<Flatten>()
      .emplace<Linear>(-1, 128, LinearOptions{.activation = "relu"})
      .emplace<Dropout>(0.5)
      .emplace<Linear>(-1, 10, LinearOptions{.activation = "softmax"});
  return m;
}

}  // namespace

TEST_CASE("sequential: layers get Keras's default names") {
  CHECK(snake_case("MaxPooling2D") == "max_pooling2d");
  CHECK(snake_case("Conv2D") == "conv2d");
  CHECK(snake_case("BatchNormalization") == "batch_normalization");
  CHECK(snake_case("GlobalAveragePooling2D") == "global_average_pooling2d");
  CHECK(snake_case("Dense") == "dense");
  auto cnn = mnist_cnn();
  CHECK(child_names(*cnn) == std::vector<std::string>{"conv2d", "conv2d_1", "max_pooling2d", "dropout", "flatten",
                                                      "dense", "dropout_1", "dense_1"});
  CHECK_THROWS_AS(cnn->add(nullptr), Error);
}

TEST_CASE("sequential: summary() of the hello-MNIST model is the seed's table") {
  auto hello_mnist_model = hello_mnist();
  Sequential& model = *hello_mnist_model;
  CHECK_THROWS_AS(model.summary(), Error);  // not built yet
  model.build({28, 28});
  CHECK(model.built());
  CHECK(model.input_shape() == Shape{28, 28});
  std::vector<std::string> got = lines_of(model.summary()), want = lines_of(kHelloMnistSummary);
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    CAPTURE(i);
    CHECK(got.at(std::min(i, got.size() - 1)) == want.at(std::min(i, want.size() - 1)));
  }
  CHECK(got.size() == want.size());
  // Apart from the trailing spaces the seed's lines carry, the columns are Keras's widths.
  std::string text = model.summary();
  CHECK(text.find("dense (Dense)                (None, 128)               100480    \n") != std::string::npos);
  // Build left the model in training mode and the parameters trainable.
  CHECK(model.is_training());
  CHECK(model.num_parameters(true) == 101770);
  model.set_trainable(false);
  std::vector<std::string> frozen = lines_of(model.summary());
  CHECK(frozen.at(frozen.size() - 2) == "Trainable params: 0");
  CHECK(frozen.back() == "Non-trainable params: 101,770");
}

TEST_CASE("sequential: the seed-000 CNN has Keras's 1,199,882 parameters") {
  auto cnn = mnist_cnn();
  cnn->build({1, 28, 28});
  std::vector<std::string> lines = lines_of(cnn->summary());
  const std::vector<std::string> rows = {
      "conv2d (Conv2D)              (None, 32, 26, 26)        320",
      "conv2d_1 (Conv2D)            (None, 64, 24, 24)        18496",
      "max_pooling2d (MaxPooling2D) (None, 64, 12, 12)        0",
      "dropout (Dropout)            (None, 64, 12, 12)        0",
      "flatten (Flatten)            (None, 9216)              0",
      "dense (Dense)                (None, 128)               1179776",
      "dropout_1 (Dropout)          (None, 128)               0",
      "dense_1 (Dense)              (None, 10)                1290",
  };
  REQUIRE(lines.size() == 4 + 2 * rows.size() + 3);
  for (size_t i = 0; i < rows.size(); ++i) CHECK(lines[4 + 2 * i] == rows[i]);
  CHECK(lines[lines.size() - 3] == "Total params: 1,199,882");
  CHECK(lines[lines.size() - 2] == "Trainable params: 1,199,882");
  CHECK(lines.back() == "Non-trainable params: 0");
  CHECK(cnn->num_parameters() == 1199882);
  // The built model runs a batch.
  CHECK((*cnn)(zeros({2, 1, 28, 28})).sizes() == Shape{2, 10});
}

TEST_CASE("sequential: batch norm statistics count as non-trainable parameters") {
  Sequential model;
  model.emplace<Conv2d>(3, 8, 3, ConvOptions{.bias = false}).emplace<BatchNorm2d>(-1).emplace<GlobalAvgPool>();
  model.build({3, 8, 8});
  std::vector<std::string> lines = lines_of(model.summary());
  // Keras's print_row cuts a long name at the column and blanks the column's last character.
  CHECK(lines[6] == "batch_normalization (BatchNo (None, 8, 6, 6)           32");
  CHECK(lines[8] == "global_average_pooling2d (Gl (None, 8)                 0");
  CHECK(lines[lines.size() - 3] == "Total params: 248");  // 216 + 4 * 8
  CHECK(lines[lines.size() - 2] == "Trainable params: 232");
  CHECK(lines.back() == "Non-trainable params: 16");
}

TEST_CASE("sequential: errors name the failing layer, dtypes follow the input") {
  Sequential model({std::make_shared<Linear>(4, 3), std::make_shared<Linear>(5, 2)});
  try {
    model(zeros({2, 4}));
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("layer 'dense_1' (Dense)") != std::string::npos);
  }
  // Lazily sized layers of a model cast to f64 before its first forward create f64 tensors.
  Sequential lazy({std::make_shared<Linear>(-1, 3), std::make_shared<BatchNorm2d>(-1)});
  lazy.to(DType::f64);
  Tensor y = lazy(zeros({2, 4}, opts(DType::f64)));
  CHECK(y.dtype() == DType::f64);
  CHECK(lazy.state_dict().size() == 6);
  for (auto& [n, p] : lazy.state_dict()) CHECK_MESSAGE(p.dtype() == DType::f64, n);
  CHECK_THROWS_AS(lazy.to(DType::i32), TypeError);
  // So does one that build() sizes.
  auto cast_model = hello_mnist();
  Sequential& cast = *cast_model;
  cast.to(DType::f64);
  cast.build({28, 28});
  CHECK(cast.num_parameters() == 101770);
  for (auto& [n, p] : cast.named_parameters()) CHECK_MESSAGE(p.dtype() == DType::f64, n);
}

}  // namespace mox::test
