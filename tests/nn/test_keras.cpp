// keras::Model: training on separable data, History, eval mode for validation / evaluate /
// predict, the softmax-logits loss path, label forms, weights round trip, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <regex>
#include <sstream>

#include "core/autograd/node.h"
#include "nn/checkpoint.h"
#include "tests/nn/event_reader.h"
#include "tests/nn/keras_fixtures.h"

namespace mox::test {
namespace {

using nn::keras::Model;

// Records the mode of every forward pass it sees (and passes x through).
class ModeProbe : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    modes.push_back(is_training());
    grad_enabled.push_back(grad_mode_enabled());
    return x;
  }
  std::string type_name() const override { return "ModeProbe"; }
  std::vector<bool> modes, grad_enabled;
};

std::vector<double> values(const Tensor& t) { return t.tolist(); }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no mox::Error thrown)";
}

void mentions(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* p : parts) CHECK_MESSAGE(msg.find(p) != std::string::npos, "\"", msg, "\" lacks \"", p, "\"");
}

}  // namespace

TEST_CASE("keras: fit learns separable blobs, the loss falls and accuracy passes 0.95") {
  Blobs train = make_blobs(300, 1), test = make_blobs(150, 2);
  Model model(make_mlp(7), {2});
  model.compile(adam(0.01), "sparse_categorical_crossentropy", {"accuracy"});
  CHECK(model.loss_from_split_softmax());
  auto before = model.evaluate(test.x, test.y, 32, 0);
  auto h = model.fit(train.x, train.y, 15, 32, std::nullopt, {}, true, 0);
  REQUIRE(h["loss"].size() == 15);
  CHECK(h["loss"].back() < 0.5 * h["loss"].front());
  CHECK(h["accuracy"].back() > 0.95);
  auto after = model.evaluate(test.x, test.y, 32, 0);
  CHECK(after.loss < 0.5 * before.loss);
  REQUIRE(after.accuracy.has_value());
  CHECK(*after.accuracy > 0.95);
}

TEST_CASE("keras: History holds loss, accuracy, val_loss, val_accuracy per epoch in Keras's order") {
  Blobs train = make_blobs(90, 3), val = make_blobs(45, 4);
  Model model(make_mlp(8), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  auto h = model.fit(train.x, train.y, 4, 16, std::make_pair(val.x, val.y), {}, true, 0);
  CHECK(h.keys() == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
  CHECK(h.epoch == std::vector<int>{0, 1, 2, 3});
  for (const auto& key : h.keys()) {
    CAPTURE(key);
    REQUIRE(h[key].size() == 4);
    for (double v : h[key]) CHECK(std::isfinite(v));
  }
  for (double a : h["accuracy"]) CHECK((a >= 0 && a <= 1));
  CHECK(model.history().keys() == h.keys());
  CHECK(model.history()["val_loss"] == h["val_loss"]);
  // After the last epoch the weights are those validation saw: evaluate() agrees exactly.
  auto r = model.evaluate(val.x, val.y, 16, 0);
  CHECK(r.loss == h["val_loss"].back());
  CHECK(*r.accuracy == h["val_accuracy"].back());
  mentions(error_of([&] { (void)h["acc"]; }), {"'acc'", "loss, accuracy, val_loss, val_accuracy"});
  CHECK_FALSE(h.contains("acc"));

  // Without metrics or validation only the loss is kept; "acc" is reported under that name.
  model.compile(adam(), "sparse_categorical_crossentropy");
  CHECK(model.fit(train.x, train.y, 2, 32, std::nullopt, {}, true, 0).keys() == std::vector<std::string>{"loss"});
  CHECK_FALSE(model.evaluate(val.x, val.y, 32, 0).accuracy.has_value());
  model.compile(adam(), "sparse_categorical_crossentropy", {"acc"});
  CHECK(model.fit(train.x, train.y, 1, 32, std::nullopt, {}, true, 0).keys() == std::vector<std::string>{"loss", "acc"});
}

TEST_CASE("keras: training batches run in training mode, validation / evaluate / predict in eval mode") {
  Blobs train = make_blobs(40, 5), val = make_blobs(20, 6);
  auto net = make_mlp(9);
  auto probe = std::make_shared<ModeProbe>();
  net->add(probe);
  Model model(net, {2});
  probe->modes.clear();
  probe->grad_enabled.clear();
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  CHECK_FALSE(model.loss_from_split_softmax());  // the probe is last, not the softmax
  REQUIRE(net->is_training());
  model.fit(train.x, train.y, 2, 16, std::make_pair(val.x, val.y), {}, false, 0);
  // Per epoch: 3 training batches (16, 16, 8), then 2 validation batches (16, 4).
  std::vector<bool> want = {true, true, true, false, false, true, true, true, false, false};
  CHECK(probe->modes == want);
  CHECK(probe->grad_enabled == want);  // validation runs without autograd
  CHECK(net->is_training());           // fit restores the mode it found
  probe->modes.clear();
  net->eval();
  model.fit(train.x, train.y, 1, 40, std::nullopt, {}, false, 0);
  CHECK(probe->modes == std::vector<bool>{true});
  CHECK_FALSE(net->is_training());
  net->train();
  probe->modes.clear();
  probe->grad_enabled.clear();
  model.evaluate(val.x, val.y, 32, 0);
  model.predict(val.x, 32);
  CHECK(probe->modes == std::vector<bool>{false, false});
  CHECK(probe->grad_enabled == std::vector<bool>{false, false});
  CHECK(net->is_training());
}

TEST_CASE("keras: with Dropout(0.5), evaluate and predict are deterministic and validation is in eval mode") {
  Blobs train = make_blobs(60, 10), val = make_blobs(30, 11);
  Model model(make_mlp(12, "softmax", 0.5), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  auto h = model.fit(train.x, train.y, 2, 16, std::make_pair(val.x, val.y), {}, true, 0);
  auto a = model.evaluate(val.x, val.y, 8, 0), b = model.evaluate(val.x, val.y, 30, 0);
  CHECK(a.loss == doctest::Approx(b.loss).epsilon(1e-6));
  CHECK(model.evaluate(val.x, val.y, 8, 0).loss == a.loss);
  CHECK(h["val_loss"].back() == doctest::Approx(a.loss).epsilon(1e-6));
  CHECK(values(model.predict(val.x)) == values(model.predict(val.x)));
  // In training mode the same network is random: dropout really is active in fit's batches.
  auto& net = model.net();
  net.train();
  NoGradGuard no_grad;
  CHECK(values(net.forward(val.x)) != values(net.forward(val.x)));
}

TEST_CASE("keras: save_weights / load_weights reproduce predictions exactly") {
  TempDir tmp("keras_weights");
  Blobs train = make_blobs(60, 13);
  Model a(make_mlp(14), {2});
  a.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  a.fit(train.x, train.y, 2, 16, std::nullopt, {}, true, 0);
  std::string path = tmp / "sub/weights.safetensors";
  a.save_weights(path);
  auto ckpt = nn::load_checkpoint(path);
  CHECK(ckpt.tensors.size() == 4);
  CHECK(ckpt.tensors.count("dense.weight") == 1);
  CHECK(ckpt.tensors.count("dense_1.bias") == 1);

  Model b(make_mlp(15), {2});
  CHECK(values(a.predict(train.x)) != values(b.predict(train.x)));
  b.load_weights(path);
  CHECK(values(a.predict(train.x)) == values(b.predict(train.x)));

  auto small = std::make_shared<nn::Sequential>();
  small->emplace<nn::Linear>(2, 8);
  Model wrong(small, {2});
  mentions(error_of([&] { wrong.load_weights(path); }), {"load_weights", "weights.safetensors"});
  CHECK_THROWS_AS(b.load_weights(tmp / "missing.safetensors"), IOError);
}

TEST_CASE("keras: one-hot labels train with categorical_crossentropy and match the sparse loss") {
  Blobs train = make_blobs(90, 17);
  Tensor onehot = one_hot(train.y, 3);
  Model model(make_mlp(18), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  auto sparse = model.evaluate(train.x, train.y, 32, 0);
  model.compile(adam(), "categorical_crossentropy", {"accuracy"});
  auto dense = model.evaluate(train.x, onehot, 32, 0);
  CHECK(dense.loss == doctest::Approx(sparse.loss).epsilon(1e-6));
  CHECK(*dense.accuracy == *sparse.accuracy);
  model.compile(adam(0.01), "categorical_crossentropy", {"accuracy"});
  auto h = model.fit(train.x, onehot, 15, 16, std::nullopt, {}, true, 0);
  CHECK(h["accuracy"].back() > 0.95);
}

TEST_CASE("keras: a softmax output is trained from its logits, other outputs follow Keras's probability rules") {
  Blobs data = make_blobs(30, 19);
  SUBCASE("Dense(softmax): the loss is the fused log-softmax of the logits, finite when softmax saturates") {
    auto net = make_mlp(20);
    Model model(net, {2});
    model.compile(adam(), "sparse_categorical_crossentropy");
    auto* last = dynamic_cast<nn::Linear*>(net->children().back().second.get());
    REQUIRE(last != nullptr);
    {
      NoGradGuard no_grad;
      last->weight.mul_(400.0);  // logits in the thousands: softmax rounds to exact 0 and 1
    }
    Tensor h = relu(linear(data.x, dynamic_cast<nn::Linear*>(net->children()[0].second.get())->weight,
                           dynamic_cast<nn::Linear*>(net->children()[0].second.get())->bias));
    Tensor logits = linear(h, last->weight, last->bias);
    double want = cross_entropy(logits, data.y).item();
    REQUIRE(want > 100);  // far past what clipped probabilities could give (-log 1e-7 = 16.1)
    double got = model.evaluate(data.x, data.y, 8, 0).loss;
    CHECK(got == doctest::Approx(want).epsilon(1e-5));
  }
  SUBCASE("Activation(softmax) as the last layer is split the same way") {
    auto net = make_mlp(21, "linear");
    net->emplace<nn::Activation>("softmax");
    Model model(net, {2});
    model.compile(adam(), "sparse_categorical_crossentropy");
    CHECK(model.loss_from_split_softmax());
    Tensor p = model.predict(data.x);
    double manual = -mean(log(nll_loss(p, data.y, Reduction::none) * -1.0)).item();
    CHECK(model.evaluate(data.x, data.y, 8, 0).loss == doctest::Approx(manual).epsilon(1e-5));
  }
  SUBCASE("from_logits takes a linear output as logits") {
    Model model(make_mlp(22, "linear"), {2});
    model.compile(adam(), "sparse_categorical_crossentropy", {}, true);
    double want = cross_entropy(model.predict(data.x), data.y).item();
    CHECK(model.evaluate(data.x, data.y, 8, 0).loss == doctest::Approx(want).epsilon(1e-6));
  }
  SUBCASE("other outputs are probabilities: renormalized and clipped") {
    Model model(make_mlp(23, "sigmoid"), {2});
    model.compile(adam(), "categorical_crossentropy");
    CHECK_FALSE(model.loss_from_split_softmax());
    Tensor p = model.predict(data.x);
    Tensor q = clamp(div(p, sum(p, {-1}, true)), 1e-7, 1 - 1e-7);
    double want = -mean(sum(mul(one_hot(data.y, 3), log(q)), {-1})).item();
    CHECK(model.evaluate(data.x, one_hot(data.y, 3), 8, 0).loss == doctest::Approx(want).epsilon(1e-5));
  }
}

TEST_CASE("keras: mse regression with a one-unit output, labels N or N x 1") {
  manual_seed(24);
  Tensor x = randn({128, 3});
  Tensor y = add(matmul(x, from_vector({0.5, -1.0, 2.0}, {3, 1})), 0.25);  // [128, 1]
  auto net = std::make_shared<nn::Sequential>();
  net->emplace<nn::Linear>(3, 1);
  Model model(net, {3});
  model.compile(adam(0.05), "mse", {"accuracy"});
  auto h = model.fit(x, y, 30, 16, std::nullopt, {}, true, 0);
  CHECK(h["loss"].back() < 0.05 * h["loss"].front());
  auto col = model.evaluate(x, y, 32, 0), flat = model.evaluate(x, y.reshape({128}), 32, 0);
  CHECK(col.loss == flat.loss);
  CHECK(col.loss < 0.05);
  // Binary accuracy: output > 0.5 agrees with label > 0.5.
  Tensor p = model.predict(x);
  double agree = mean(eq(gt(p, full({}, 0.5)), gt(y, full({}, 0.5))).to(DType::f32)).item();
  CHECK(*col.accuracy == doctest::Approx(agree));
}

TEST_CASE("keras: predict batches, casts inputs to the model dtype, and returns probabilities") {
  Blobs data = make_blobs(50, 25);
  Model model(make_mlp(26), {2});
  Tensor all = model.predict(data.x, 50), parts = model.predict(data.x, 7);
  CHECK(all.sizes() == Shape{50, 3});
  CHECK(values(all) == values(parts));
  for (double s : sum(all, {1}).tolist()) CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(values(model.predict(data.x.to(DType::f64), 16)) == values(parts));
}

TEST_CASE("keras: shuffling follows manual_seed, so a run repeats exactly") {
  Blobs data = make_blobs(64, 27);
  std::vector<double> losses[2];
  for (auto& l : losses) {
    Model model(make_mlp(28), {2});
    model.compile(adam(), "sparse_categorical_crossentropy");
    manual_seed(99);
    l = model.fit(data.x, data.y, 3, 8, std::nullopt, {}, true, 0)["loss"];
  }
  CHECK(losses[0] == losses[1]);
}

TEST_CASE("keras: summary prints the Keras table") {
  Model model(make_mlp(29), {2});
  std::ostringstream os;
  model.summary(os);
  mentions(os.str(), {"Model: \"sequential\"", "dense (Dense)", "dense_1 (Dense)", "(None, 3)", "Total params: 99"});
}

TEST_CASE("keras: fit prints Epoch i/n and one progress line per epoch when not on a terminal") {
  Blobs train = make_blobs(60, 30), val = make_blobs(30, 31);
  Model model(make_mlp(32), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  std::ostringstream os;
  model.set_output(os);
  model.fit(train.x, train.y, 2, 16, std::make_pair(val.x, val.y), {}, true, 1);
  std::string bar = R"(4/4 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - accuracy: \d\.\d{4})";
  std::string line = bar + R"( - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}\n)";
  CHECK_MESSAGE(std::regex_match(os.str(), std::regex("Epoch 1/2\n" + line + "Epoch 2/2\n" + line)), os.str());
  std::ostringstream ev;
  model.set_output(ev);
  model.evaluate(val.x, val.y, 8, 1);
  CHECK_MESSAGE(std::regex_match(ev.str(), std::regex(R"(4/4 \[={30}\] - .*step - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n)")), ev.str());
  std::ostringstream quiet;
  model.set_output(quiet);
  model.fit(train.x, train.y, 1, 16, std::nullopt, {}, true, 0);
  model.evaluate(val.x, val.y, 8, 0);
  CHECK(quiet.str().empty());
}

TEST_CASE("keras: bad calls raise mox::Error saying what is wrong") {
  Blobs data = make_blobs(30, 33);
  Model model(make_mlp(34), {2});
  mentions(error_of([&] { model.fit(data.x, data.y, 1); }), {"fit", "not compiled", "compile("});
  mentions(error_of([&] { model.evaluate(data.x, data.y); }), {"evaluate", "not compiled"});
  mentions(error_of([&] { model.compile("adam", "hinge"); }), {"unknown loss 'hinge'", "sparse_categorical_crossentropy", "mse"});
  mentions(error_of([&] { model.compile("adam", "mse", {"precision"}); }), {"unknown metric 'precision'", "accuracy"});
  mentions(error_of([&] { model.compile("adamw", "mse"); }), {"unknown optimizer 'adamw'", "adam", "sgd"});
  mentions(error_of([&] { model.compile("adam", "mse", {}, true); }), {"from_logits", "mse"});
  CHECK_FALSE(model.compiled());  // failed compiles leave nothing behind
  model.compile("sgd", "sparse_categorical_crossentropy", {"accuracy"});
  CHECK_THROWS(model.compile("sgd", "nope"));
  CHECK(model.loss_name() == "sparse_categorical_crossentropy");

  Tensor y_short = data.y.narrow(0, 0, 20);
  mentions(error_of([&] { model.fit(data.x, y_short, 1, 32, std::nullopt, {}, true, 0); }),
           {"fit", "different numbers of samples", "[30, 2]", "[20]"});
  mentions(error_of([&] { model.evaluate(data.x, y_short, 32, 0); }), {"evaluate", "[30, 2]", "[20]"});
  mentions(error_of([&] { model.fit(data.x, one_hot(data.y, 3), 1, 32, std::nullopt, {}, true, 0); }),
           {"integer class indices", "f32", "[30, 3]", "categorical_crossentropy"});
  mentions(error_of([&] { model.fit(data.x, data.y.reshape({15, 2}), 1); }), {"[15, 2]", "[30, 2]"});
  mentions(error_of([&] { model.fit(data.x, add(data.y, ones_like(data.y)), 1, 32, std::nullopt, {}, true, 0); }),
           {"class index 3", "3 classes"});
  mentions(error_of([&] { model.fit(randn({30, 3}), data.y, 1); }), {"x has shape [30, 3]", "[N, 2]"});
  mentions(error_of([&] { model.predict(randn({4, 2, 1})); }), {"predict", "[4, 2, 1]", "[N, 2]"});
  mentions(error_of([&] { model.fit(data.x, data.y, 1, 0); }), {"batch_size", "0"});
  mentions(error_of([&] { model.fit(data.x, data.y, 1, 8, std::make_pair(data.x, y_short), {}, true, 0); }),
           {"validation_data", "[20]"});
  model.compile("sgd", "categorical_crossentropy");
  mentions(error_of([&] { model.fit(data.x, data.y, 1, 32, std::nullopt, {}, true, 0); }),
           {"one-hot labels [30, 3]", "i64", "[30]", "sparse_categorical_crossentropy"});
  model.compile("sgd", "mse");
  mentions(error_of([&] { model.evaluate(data.x, data.y, 32, 0); }), {"mse", "[30, 3]", "[30]"});

  auto empty = std::make_shared<nn::Sequential>();
  mentions(error_of([&] { Model m(empty, {2}); }), {"no layers"});
  mentions(error_of([&] { Model m(nullptr, {2}); }), {"null"});
}

}  // namespace mox::test
