// mox_demo: trains a two-layer perceptron on Fashion-MNIST with Mox's tensors and autograd
// alone (no nn layer yet): parameters are plain tensors, the update is SGD with momentum.
// Prints the loss as it goes and the test accuracy at the end; --json adds one JSON object.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>

#include "core/ops.h"
#include "io/data/mnist.h"

using namespace mox;

namespace {

// Copies the rows named by idx[begin, end) of a dense [N, ...] tensor into a new batch.
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& idx, size_t begin, size_t end) {
  Shape shape = x.sizes();
  shape[0] = int64_t(end - begin);
  Tensor out = empty(shape, opts(x.dtype()));
  size_t row = size_t(x.numel() / x.size(0) * x.element_size());
  auto* dst = static_cast<char*>(out.raw_data());
  auto* src = static_cast<const char*>(x.raw_data());
  for (size_t i = begin; i < end; ++i) std::memcpy(dst + (i - begin) * row, src + size_t(idx[i]) * row, row);
  return out;
}

Tensor he_uniform(int64_t fan_in, const Shape& shape) {
  double bound = std::sqrt(6.0 / double(fan_in));
  return uniform(shape, -bound, bound).requires_grad_(true);
}

double accuracy(const TensorList& params, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t b = 0; b < x.size(0); b += 1000) {
    int64_t n = std::min<int64_t>(1000, x.size(0) - b);
    Tensor h = relu(linear(x.narrow(0, b, n), params[0], params[1]));
    Tensor pred = argmax(linear(h, params[2], params[3]), 1);
    correct += int64_t(sum(eq(pred, y.narrow(0, b, n))).item());
  }
  return double(correct) / double(x.size(0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a 784-128-10 perceptron on Fashion-MNIST with Mox autograd"};
  std::string data_dir = data::kFashionMnistDir;
  int epochs = 2, batch_size = 64, hidden = 128;
  double lr = 0.05, momentum = 0.9;
  uint64_t seed = 0;
  bool json = false;
  app.add_option("--data_dir", data_dir, "directory with the *-ubyte.gz files")->capture_default_str();
  app.add_option("--epochs", epochs, "passes over the training set")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch_size", batch_size, "examples per step")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "hidden units")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--learning_rate", lr, "SGD learning rate")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--momentum", momentum, "SGD momentum")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_flag("--json", json, "print one JSON object with the results last");
  CLI11_PARSE(app, argc, argv);

  try {
    auto t0 = std::chrono::steady_clock::now();
    manual_seed(seed);
    data::MnistSplit train = data::load_mnist(data_dir, "train"), test = data::load_mnist(data_dir, "t10k");
    Tensor xtr = train.images.reshape({train.images.size(0), -1});
    Tensor xte = test.images.reshape({test.images.size(0), -1});
    std::cout << "data: " << xtr.size(0) << " training and " << xte.size(0) << " test images from "
              << data_dir << "\n";

    TensorList params = {he_uniform(784, {hidden, 784}), zeros({hidden}, opts(DType::f32, Device::cpu(), true)),
                         he_uniform(hidden, {10, hidden}), zeros({10}, opts(DType::f32, Device::cpu(), true))};
    TensorList velocity;
    for (const Tensor& p : params) velocity.push_back(zeros_like(p));

    std::vector<int64_t> order(size_t(xtr.size(0)));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    int64_t steps = 0;
    double last_loss = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      std::shuffle(order.begin(), order.end(), rng);
      double loss_sum = 0;
      int64_t batches = 0;
      for (size_t b = 0; b < order.size(); b += size_t(batch_size)) {
        size_t e = std::min(order.size(), b + size_t(batch_size));
        Tensor x = gather_rows(xtr, order, b, e), y = gather_rows(train.labels, order, b, e);
        Tensor h = relu(linear(x, params[0], params[1]));
        Tensor loss = cross_entropy(linear(h, params[2], params[3]), y);
        for (Tensor& p : params) p.zero_grad();
        loss.backward();
        {
          NoGradGuard no_grad;
          for (size_t i = 0; i < params.size(); ++i) {
            velocity[i].mul_(momentum).add_(params[i].grad());
            params[i].add_(velocity[i], -lr);
          }
        }
        loss_sum += loss.item();
        ++batches;
        ++steps;
        if (steps % 200 == 0)
          std::cout << "epoch " << epoch << " step " << steps << "  loss: " << loss_sum / double(batches) << std::endl;
      }
      last_loss = loss_sum / double(batches);
      std::cout << "epoch " << epoch << " done  mean loss: " << last_loss
                << "  test accuracy: " << accuracy(params, xte, test.labels) << std::endl;
    }
    double acc = accuracy(params, xte, test.labels);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "test accuracy: " << acc << " after " << epochs << " epochs (" << seconds << " s)\n";
    if (json)
      std::cout << "{\"accuracy\": " << acc << ", \"epochs\": " << epochs << ", \"steps\": " << steps
                << ", \"loss\": " << last_loss << ", \"seconds\": " << seconds << "}\n";
  } catch (const Error& e) {
    std::cerr << "mox_demo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
