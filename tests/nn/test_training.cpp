// Training smoke test: a Sequential MLP learns a synthetic two-class problem that is not
// linearly separable (a disc inside a ring) with get_optimizer_fn("adam", 0.01), full batch,
// 200 steps; seeded, so two runs end with identical weights.
#include <cmath>

#include "nn/layers.h"
#include "nn/optim/optimizer.h"
#include "nn/sequential.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

using namespace mox::nn;

struct Data {
  Tensor x, y;  // [N, 2] f32, [N] i64
};

// Class 0: radius in [0, 1); class 1: radius in [1.5, 2.5). Angles and radii from the seeded
// generator.
Data make_data(int64_t n) {
  std::vector<double> r = rand({n}).tolist(), a = rand({n}).tolist(), xs, ys;
  for (int64_t i = 0; i < n; ++i) {
    int label = int(i % 2);
    double radius = label == 0 ? r[size_t(i)] : 1.5 + r[size_t(i)];
    double angle = 2 * M_PI * a[size_t(i)];
    xs.push_back(radius * std::cos(angle));
    xs.push_back(radius * std::sin(angle));
    ys.push_back(label);
  }
  return {from_vector(xs, {n, 2}), from_vector(ys, {n}, opts(DType::i64))};
}

double accuracy(Module& model, const Data& d) {
  NoGradGuard no_grad;
  std::vector<double> pred = model(d.x).argmax(1).tolist(), want = d.y.tolist();
  int64_t right = 0;
  for (size_t i = 0; i < pred.size(); ++i) right += pred[i] == want[i];
  return double(right) / double(pred.size());
}

struct Result {
  double first_loss, last_loss, accuracy;
  std::vector<double> weights;
};

Result train() {
  manual_seed(2024);
  Data d = make_data(400);
  Sequential model;
  model.emplace<Linear>(2, 32, LinearOptions{.activation = "relu"})
      .emplace<Linear>(-1, 32, LinearOptions{.activation = "tanh"})
      .emplace<Dropout>(0.1)
      .emplace<Linear>(-1, 2);
  model.build({2});
  auto opt = get_optimizer_fn("adam", 0.01)(model.parameters());
  Result r{};
  for (int step = 0; step < 200; ++step) {
    opt->zero_grad();
    Tensor loss = cross_entropy(model(d.x), d.y);
    if (step == 0) r.first_loss = loss.item();
    r.last_loss = loss.item();
    loss.backward();
    opt->step();
  }
  model.eval();
  r.accuracy = accuracy(model, d);
  for (const Tensor& p : model.parameters())
    for (double v : p.tolist()) r.weights.push_back(v);
  return r;
}

}  // namespace

TEST_CASE("training: an MLP reaches over 95% accuracy on a disc-in-ring problem with adam") {
  Result a = train();
  CAPTURE(a.first_loss);
  CAPTURE(a.last_loss);
  CHECK(a.accuracy > 0.95);
  CHECK(a.last_loss < 0.25 * a.first_loss);
  Result b = train();
  CHECK(b.accuracy == a.accuracy);
  CHECK(b.weights == a.weights);  // deterministic: same seed, same weights, bit for bit
}

}  // namespace mox::test
