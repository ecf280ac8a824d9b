// Optimizers by MoXing name against tests/data/optimizer_steps.json (written by
// tests/ref/make_optimizer_reference.py: torch.optim where it computes TensorFlow 1's rule,
// TF's formulas in NumPy for adam, rmsprop and ftrl), plus weight decay, argument checking,
// parameters without gradients and state_dict round trips (also through a checkpoint file).
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include "nn/checkpoint.h"
#include "nn/optim/optimizer.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

using nlohmann::json;
using nn::get_optimizer_fn;
using nn::Optimizer;
using nn::OptimizerArgs;

const json& reference() {
  static const json doc = [] {
    std::ifstream in(std::string(MOX_TEST_DATA) + "/optimizer_steps.json");
    REQUIRE_MESSAGE(in.good(), "missing tests/data/optimizer_steps.json");
    return json::parse(in);
  }();
  return doc;
}

TensorList make_params(DType dtype) {
  TensorList ps;
  for (const json& p : reference()["params"])
    ps.push_back(from_vector(p["data"].get<std::vector<double>>(), p["shape"].get<Shape>(), opts(dtype))
                     .requires_grad_(true));
  return ps;
}

void set_grads(const TensorList& ps, const json& grads) {
  for (size_t i = 0; i < ps.size(); ++i)
    ps[i].set_grad(from_vector(grads[i].get<std::vector<double>>(), ps[i].sizes(), opts(ps[i].dtype())));
}

OptimizerArgs args_of(const json& c) {
  OptimizerArgs a;
  for (auto& [k, v] : c["args"].items()) a[k] = v.get<double>();
  return a;
}

const std::vector<std::string> kNames = {"sgd", "momentum", "adam", "adadelta", "adagrad", "rmsprop", "ftrl"};

// Runs `steps` steps of optimizer `name` with gradient g(step, w) for every parameter.
template <class GradFn>
TensorList run(const std::string& name, OptimizerArgs args, int steps, GradFn g) {
  TensorList ps = make_params(DType::f64);
  auto opt = get_optimizer_fn(name, 0.05, args)(ps);
  for (int s = 0; s < steps; ++s) {
    for (size_t i = 0; i < ps.size(); ++i) ps[i].set_grad(g(s, i, ps[i]));
    opt->step();
  }
  return ps;
}

Tensor fixed_grad(int step, size_t i) {
  const json& g = reference()["grads"][size_t(step)][i];
  const json& p = reference()["params"][i];
  return from_vector(g.get<std::vector<double>>(), p["shape"].get<Shape>(), opts(DType::f64));
}

}  // namespace

TEST_CASE("optimizers: three steps match the reference for every optimizer (f64 and f32)") {
  const json& cases = reference()["cases"];
  std::set<std::string> covered;
  for (const json& c : cases) {
    std::string name = c["name"], opt_name = c["optimizer"];
    covered.insert(opt_name);
    for (DType dtype : {DType::f64, DType::f32}) {
      CAPTURE(name);
      std::string dtype_str = dtype_name(dtype);
      CAPTURE(dtype_str);
      TensorList ps = make_params(dtype);
      auto opt = get_optimizer_fn(opt_name, c["lr"].get<double>(), args_of(c))(ps);
      CHECK(opt->name() == opt_name);
      Tolerance tol = dtype == DType::f64 ? Tolerance{1e-10, 1e-13} : Tolerance{2e-5, 1e-6};
      for (size_t s = 0; s < 3; ++s) {
        CAPTURE(s);
        set_grads(ps, reference()["grads"][s]);
        opt->step();
        CHECK(opt->global_step() == int64_t(s + 1));
        for (size_t i = 0; i < ps.size(); ++i) {
          Tensor want = from_vector(c["steps"][s][i].get<std::vector<double>>(), ps[i].sizes(), opts(dtype));
          CHECK(ps[i].dtype() == dtype);
          CHECK_ALLCLOSE(ps[i], want, tol);
        }
      }
    }
  }
  CHECK(covered == std::set<std::string>(kNames.begin(), kNames.end()));
}

TEST_CASE("optimizers: weight_decay adds weight_decay * w to the gradient") {
  const double wd = 0.3;
  for (const std::string& name : kNames) {
    CAPTURE(name);
    TensorList decayed = run(name, {{"weight_decay", wd}}, 3, [](int s, size_t i, const Tensor&) {
      return fixed_grad(s, i);
    });
    TensorList manual = run(name, {}, 3, [wd](int s, size_t i, const Tensor& w) {
      return add(fixed_grad(s, i), mul(w.detach(), wd));
    });
    TensorList plain = run(name, {}, 3, [](int s, size_t i, const Tensor&) { return fixed_grad(s, i); });
    for (size_t i = 0; i < decayed.size(); ++i) {
      CHECK_ALLCLOSE(decayed[i], manual[i], (Tolerance{1e-12, 1e-14}));
      CHECK_FALSE(allclose_message(decayed[i], plain[i], {1e-6, 1e-9}).empty());  // it did decay
    }
  }
}

TEST_CASE("optimizers: unknown names and arguments raise mox::Error listing the valid ones") {
  try {
    get_optimizer_fn("adamw", 0.1);
    FAIL("no error for an unknown optimizer");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("'adamw'") != std::string::npos);
    for (const std::string& n : kNames) CHECK_MESSAGE(msg.find(n) != std::string::npos, msg, " lacks ", n);
  }
  try {
    get_optimizer_fn("adam", 0.1, {{"momentum", 0.9}});  // momentum's argument, not adam's
    FAIL("no error for an unknown argument");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("'momentum'") != std::string::npos);
    for (const char* a : {"beta1", "beta2", "epsilon", "weight_decay"})
      CHECK_MESSAGE(msg.find(a) != std::string::npos, msg, " lacks ", a);
  }
  CHECK_THROWS_AS(get_optimizer_fn("ftrl", 0.1, {{"l1", 0.1}}), Error);
  CHECK_THROWS_AS(get_optimizer_fn("sgd", 0.0), Error);
  CHECK_THROWS_AS(get_optimizer_fn("sgd", -1.0), Error);
  CHECK_THROWS_AS(get_optimizer_fn("sgd", nn::LearningRate()), Error);
  // Integer parameters cannot be optimized.
  CHECK_THROWS_AS(get_optimizer_fn("sgd", 0.1)({zeros({2}, opts(DType::i64))}), Error);
}

TEST_CASE("optimizers: parameters without a gradient are skipped") {
  for (const std::string& name : kNames) {
    CAPTURE(name);
    Tensor a = from_vector({1, 2, 3}, {3}, opts(DType::f64)).requires_grad_(true);
    Tensor b = from_vector({4, 5}, {2}, opts(DType::f64)).requires_grad_(true);
    Tensor frozen = from_vector({6, 7}, {2}, opts(DType::f64));  // requires no grad
    auto opt = get_optimizer_fn(name, 0.1, {{"weight_decay", 0.1}})({a, b, frozen});
    for (int s = 0; s < 3; ++s) {
      a.set_grad(full({3}, 0.5, opts(DType::f64)));
      opt->step();
    }
    CHECK(opt->global_step() == 3);
    CHECK(a.tolist() != std::vector<double>{1, 2, 3});
    CHECK(b.tolist() == std::vector<double>{4, 5});
    CHECK(frozen.tolist() == std::vector<double>{6, 7});
    for (auto& [key, t] : opt->state_dict())
      CHECK_MESSAGE((key == "global_step" || key.rfind("0/", 0) == 0), "slot ", key, " for a skipped parameter");
  }
}

TEST_CASE("optimizers: the learning rate is a function of the global step") {
  Tensor w = zeros({1}, opts(DType::f64)).requires_grad_(true);
  auto opt = get_optimizer_fn("sgd", [](int64_t step) { return 0.1 * double(step + 1); })({w});
  CHECK(opt->learning_rate() == doctest::Approx(0.1));
  for (int s = 0; s < 3; ++s) {
    w.set_grad(ones({1}, opts(DType::f64)));
    opt->step();
  }
  CHECK(w.item() == doctest::Approx(-(0.1 + 0.2 + 0.3)).epsilon(1e-12));
  opt->set_global_step(9);
  CHECK(opt->learning_rate() == doctest::Approx(1.0));
}

TEST_CASE("optimizers: state_dict / load_state_dict continue identically (also through a checkpoint)") {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("mox_test_optim_state_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  for (const std::string& name : kNames) {
    CAPTURE(name);
    OptimizerArgs args;
    if (name == "momentum") args = {{"use_nesterov", 1}};
    if (name == "rmsprop") args = {{"momentum", 0.5}};
    if (name == "ftrl") args = {{"l1_regularization_strength", 0.01}};
    TensorList ps = make_params(DType::f64);
    auto opt = get_optimizer_fn(name, 0.05, args)(ps);
    for (size_t s = 0; s < 2; ++s) {
      set_grads(ps, reference()["grads"][s]);
      opt->step();
    }
    // Resume twice: straight from state_dict, and from a checkpoint file holding it.
    nn::Checkpoint ck;
    ck.tensors = opt->state_dict();
    CHECK(ck.tensors.count("global_step"));
    std::string path = (dir / (name + ".safetensors")).string();
    nn::save_checkpoint(path, ck);
    // state_dict's tensors alias the live slots (as PyTorch's do): keep a copy of them.
    std::map<std::string, Tensor> snapshot;
    for (auto& [k, t] : opt->state_dict()) snapshot[k] = t.clone();
    std::vector<std::map<std::string, Tensor>> states = {snapshot, nn::load_checkpoint(path).tensors};
    TensorList after2;
    for (const Tensor& p : ps) after2.push_back(p.detach().clone());
    set_grads(ps, reference()["grads"][2]);
    opt->step();
    for (const auto& state : states) {
      TensorList copies;
      for (const Tensor& p : after2) copies.push_back(p.clone().requires_grad_(true));
      auto resumed = get_optimizer_fn(name, 0.05, args)(copies);
      resumed->load_state_dict(state);
      CHECK(resumed->global_step() == 2);
      set_grads(copies, reference()["grads"][2]);
      resumed->step();
      for (size_t i = 0; i < ps.size(); ++i) CHECK(copies[i].tolist() == ps[i].tolist());
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("optimizers: load_state_dict rejects bad slots with mox::Error") {
  Tensor w = zeros({2}).requires_grad_(true);
  auto opt = get_optimizer_fn("adam", 0.1)({w});
  CHECK_THROWS_AS(opt->load_state_dict({{"m", zeros({2})}}), Error);
  CHECK_THROWS_AS(opt->load_state_dict({{"x/m", zeros({2})}}), Error);
  CHECK_THROWS_AS(opt->load_state_dict({{"1/m", zeros({2})}}), Error);
  CHECK_THROWS_AS(opt->load_state_dict({{"0/m", zeros({3})}}), ShapeError);
  CHECK_THROWS_AS(opt->load_state_dict({{"global_step", zeros({2})}}), Error);
}


// Momentum, Nesterov, Adam and Adadelta run as one fused kernel pass on dense parameters and as
// tensor ops otherwise (here: a transposed, non-dense gradient); both give the same parameters
// and slots.
TEST_CASE("optimizers: the fused updates match the tensor-op rules") {
  const std::vector<std::pair<std::string, OptimizerArgs>> cases = {
      {"momentum", {{"momentum", 0.9}}}, {"momentum", {{"momentum", 0.8}, {"use_nesterov", 1}}},
      {"adam", {}}, {"adadelta", {{"rho", 0.9}, {"epsilon", 1e-6}}}};
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const auto& [name, args] : cases) {
      CAPTURE(name);
      CAPTURE(args.size());
      std::string dtype_str = dtype_name(dtype);
      CAPTURE(dtype_str);
      manual_seed(3);
      Tensor init = randn({40, 70}, opts(dtype));
      TensorList fused = {init.clone().requires_grad_(true)}, plain = {init.clone().requires_grad_(true)};
      auto opt_fused = get_optimizer_fn(name, 0.05, args)(fused);
      auto opt_plain = get_optimizer_fn(name, 0.05, args)(plain);
      for (int s = 0; s < 3; ++s) {
        Tensor g = randn({70, 40}, opts(dtype));
        fused[0].set_grad(g.t().contiguous());
        plain[0].set_grad(g.t());
        REQUIRE(!plain[0].grad().is_contiguous());
        opt_fused->step();
        opt_plain->step();
      }
      Tolerance tol = dtype == DType::f64 ? Tolerance{1e-12, 1e-14} : Tolerance{1e-5, 1e-6};
      CHECK_ALLCLOSE(fused[0], plain[0], tol);
      auto slots_fused = opt_fused->state_dict(), slots_plain = opt_plain->state_dict();
      for (auto& [key, t] : slots_plain) {
        CAPTURE(key);
        CHECK_ALLCLOSE(slots_fused.at(key), t, tol);
      }
    }
  }
}

}  // namespace mox::test
