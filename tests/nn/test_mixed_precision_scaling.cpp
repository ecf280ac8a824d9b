// Loss scaling: the dynamic scaler's schedule (growth after N finite steps, halving and skipping
// on inf/NaN, the floor and the ceiling), unscale_ on every float dtype, the loss_scale and dtype
// flags, gradients that underflow to zero in f16 without scaling and survive with it, and
// mox::run with a scaler: skipped steps, the log values and summaries, and the scaler's state
// in checkpoints.
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/loss_scale.h"
#include "nn/run/flags.h"
#include "nn/run/run.h"
#include "nn/sequential.h"
#include "nn/var_scope.h"
#include "tests/nn/event_reader.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

using nn::DynamicLossScaleOptions;
using nn::LossScaler;

// A parameter whose gradient holds the given values.
Tensor param_with_grad(std::vector<double> grad, DType dt = DType::f32) {
  Tensor p = zeros({int64_t(grad.size())}, opts(dt)).requires_grad_(true);
  p.set_grad(from_vector(grad, {int64_t(grad.size())}, opts(dt)));
  return p;
}

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("loss scale: the dynamic scaler starts at 2^15 and doubles after growth_interval finite steps") {
  LossScaler d = LossScaler::dynamic();
  CHECK(d.scale() == 32768);
  CHECK(d.options().growth_interval == 2000);
  CHECK(d.is_dynamic());
  CHECK(d.enabled());

  LossScaler s = LossScaler::dynamic({.init_scale = 8, .growth_interval = 3});
  CHECK(s.update(true));
  CHECK(s.update(true));
  CHECK(s.scale() == 8);
  CHECK(s.good_steps() == 2);
  CHECK(s.update(true));
  CHECK(s.scale() == 16);
  CHECK(s.good_steps() == 0);
  for (int i = 0; i < 3; ++i) s.update(true);
  CHECK(s.scale() == 32);
  CHECK(s.skipped_steps() == 0);
}

TEST_CASE("loss scale: inf or NaN gradients halve the scale and skip the step") {
  for (double bad : {kInf, -kInf, kNaN}) {
    LossScaler s = LossScaler::dynamic({.init_scale = 1024, .growth_interval = 3});
    s.update(true);
    s.update(true);
    Tensor ok = param_with_grad({2048, -1024}), broken = param_with_grad({1, bad});
    CHECK_FALSE(s.unscale({ok, broken}));
    CHECK(ok.grad().tolist() == std::vector<double>{2, -1});  // every gradient is unscaled
    CHECK_FALSE(s.update(false));
    CHECK(s.scale() == 512);
    CHECK(s.skipped_steps() == 1);
    CHECK(s.good_steps() == 0);  // the run of finite steps starts again
    s.update(true);
    s.update(true);
    CHECK(s.scale() == 512);
    s.update(true);
    CHECK(s.scale() == 1024);
  }
}

TEST_CASE("loss scale: the scale never goes below min_scale nor above max_scale") {
  LossScaler s = LossScaler::dynamic({.init_scale = 8, .growth_interval = 1, .min_scale = 2, .max_scale = 16});
  for (int i = 0; i < 5; ++i) CHECK_FALSE(s.update(false));
  CHECK(s.scale() == 2);
  CHECK(s.skipped_steps() == 5);
  for (int i = 0; i < 5; ++i) CHECK(s.update(true));
  CHECK(s.scale() == 16);
  CHECK(LossScaler::dynamic().scale() >= LossScaler::dynamic().options().min_scale);
  CHECK_THROWS_AS(LossScaler::dynamic({.init_scale = 0.5}), Error);
  CHECK_THROWS_AS(LossScaler::dynamic({.backoff_factor = 1}), Error);
  CHECK_THROWS_AS(LossScaler::dynamic({.growth_interval = 0}), Error);
}

TEST_CASE("loss scale: a static scale scales and unscales but never changes, and 1 disables it") {
  LossScaler s = LossScaler::fixed(1024);
  CHECK(s.enabled());
  CHECK_FALSE(s.is_dynamic());
  Tensor loss = tensor({0.5}, opts(DType::f16)).reshape({});
  Tensor scaled = s.scale(loss);
  CHECK(scaled.dtype() == DType::f32);  // an f16 loss times the scale could overflow
  CHECK(scaled.item() == 512);
  CHECK_FALSE(s.update(false));  // not finite: skipped, same scale
  CHECK(s.scale() == 1024);
  CHECK(s.skipped_steps() == 1);

  LossScaler off = LossScaler::fixed(1);
  CHECK_FALSE(off.enabled());
  CHECK(off.scale(loss).is_same(loss));
  Tensor p = param_with_grad({3, kInf});
  CHECK(off.unscale({p}));  // off: gradients are left alone
  CHECK(p.grad().tolist()[0] == 3);
  CHECK(LossScaler().str() == "off");
}

TEST_CASE("loss scale: unscale_ divides gradients of every float dtype in place and finds inf and NaN") {
  for (DType dt : {DType::f32, DType::f64, DType::f16, DType::bf16}) {
    INFO(std::string(dtype_name(dt)));
    Tensor g = from_vector({1024, -512, 3072, 0.5}, {2, 2}, opts(dt));
    CHECK(unscale_(g, 1.0 / 512));
    CHECK(g.tolist() == std::vector<double>{2, -1, 6, 1.0 / 1024});
    Tensor bad = from_vector({1, 2, kNaN, 4}, {4}, opts(dt));
    CHECK_FALSE(unscale_(bad, 0.5));
    Tensor big = full({40000}, 1, opts(dt));  // the parallel path, one inf at the end
    big.narrow(0, 39999, 1).fill_(kInf);
    CHECK_FALSE(unscale_(big, 0.5));
    CHECK(big.narrow(0, 0, 1).item() == 0.5);
    // A non-contiguous gradient is written back in place.
    Tensor t = from_vector({2, 4, 6, 8}, {2, 2}, opts(dt)).t();
    CHECK(unscale_(t, 0.5));
    CHECK(t.contiguous().tolist() == std::vector<double>{1, 3, 2, 4});
  }
  mentions(thrown<TypeError>([] { unscale_(zeros({2}, opts(DType::i64)), 0.5); }), {"unscale_", "i64"});
}

TEST_CASE("loss scale: the loss_scale and dtype flags") {
  CHECK(LossScaler::from_flag("dynamic").is_dynamic());
  CHECK(LossScaler::from_flag("1024").scale() == 1024);
  CHECK_FALSE(LossScaler::from_flag("1").enabled());
  for (const char* bad : {"0", "-4", "abc", "inf", "12x", ""})
    mentions(thrown<Error>([&] { LossScaler::from_flag(bad); }), {"--loss_scale", "dynamic"});
  CHECK(flags::compute_dtype("f32") == DType::f32);
  CHECK(flags::compute_dtype("f16") == DType::f16);
  CHECK(flags::compute_dtype("bf16") == DType::bf16);
  for (const char* bad : {"i32", "foo", "f64", "float16"})
    mentions(thrown<Error>([&] { flags::compute_dtype(bad); }), {"--dtype", bad, "f16", "bf16"});
  // The run flags carry both, with their defaults.
  CHECK(flags::global().get_string("dtype") == "f32");
  CHECK(flags::global().get_string("loss_scale") == "1");
}

// A small gradient (a loss that is small, as late in training) flushes to zero in f16: the
// smallest f16 subnormal is 2^-24 ~ 6e-8. Scaling the loss by 2^15 moves the gradients into
// f16's range; unscaled in the f32 master weights they match the f32 computation.
TEST_CASE("loss scale: f16 gradients that underflow to zero without scaling survive with it") {
  const double tiny = std::ldexp(1.0, -27);  // d loss / d y: below f16's smallest subnormal / 2
  auto grads = [&](DType dt, const LossScaler& scaler) {
    manual_seed(4);
    nn::Linear layer(16, 8);
    manual_seed(5);
    Tensor x = randn({32, 16}).to(dt);
    Tensor y;
    {
      nn::VarScope scope({.force_dtype = DType::f32});
      y = layer(x);
    }
    CHECK(y.dtype() == dt);
    scaler.scale(mul(sum(y), tiny)).backward();
    CHECK(scaler.unscale(layer.parameters()));
    return std::make_pair(layer.weight.grad(), layer.bias.grad());
  };
  auto [w32, b32] = grads(DType::f32, LossScaler());
  auto [w16, b16] = grads(DType::f16, LossScaler());
  CHECK(w16.dtype() == DType::f32);  // the master's gradient
  CHECK(max(abs(w32).flatten(), 0).values.item() > 0);
  CHECK(max(abs(w16).flatten(), 0).values.item() == 0);  // all of it underflowed
  CHECK(max(abs(b16), 0).values.item() == 0);
  LossScaler dynamic = LossScaler::dynamic();
  auto [ws, bs] = grads(DType::f16, dynamic);
  CHECK_ALLCLOSE(ws, w32, Tolerance({1e-2, 1e-2 * std::ldexp(1.0, -27) * 4}));
  CHECK_ALLCLOSE(bs, b32, Tolerance({1e-3, 0}));
}

namespace {

namespace fs = std::filesystem;

// A two-class problem the f16 model learns; model_fn poisons the loss with inf at the steps in
// poison, as an overflow would.
struct ScaledRun {
  std::shared_ptr<nn::Sequential> model = std::make_shared<nn::Sequential>();
  Tensor x, y;
  std::set<int64_t> poison;
  int64_t calls = 0;

  ScaledRun() {
    manual_seed(8);
    model->add(std::make_shared<nn::Linear>(4, 8, nn::LinearOptions{.activation = "relu"}));
    model->add(std::make_shared<nn::Linear>(8, 2));
    y = randint(0, 2, {256});
    x = add(randn({256, 4}), mul(y.to(DType::f32).reshape({256, 1}), 3.0).expand({256, 4}));
  }

  RunArgs args(const std::string& dir, int64_t steps) {
    RunArgs a;
    a.input_fn = [this](ModeKeys, int64_t bs) {
      return data::batches({x, y}, {.batch_size = bs, .shuffle = true, .num_epochs = -1});
    };
    a.model_fn = [this](const Batch& b, ModeKeys) {
      Tensor logits;
      {
        nn::VarScope scope({.force_dtype = DType::f32});
        logits = (*model)(b[0].to(DType::f16));
      }
      ModelSpec s;
      s.loss = cross_entropy(logits.to(DType::f32), b[1]);
      if (poison.count(calls++)) s.loss = mul(s.loss, kInf);
      s.log_info = {{"loss", s.loss}};
      return s;
    };
    a.optimizer_fn = nn::get_optimizer_fn("sgd", 0.1);
    a.model = model;
    a.batch_size = 32;
    a.log_dir = dir;
    a.max_number_of_steps = steps;
    a.save_summary_steps = 1;
    a.verbose = false;
    a.loss_scale = LossScaler::dynamic({.init_scale = 1024, .growth_interval = 4});
    return a;
  }
};

}  // namespace

TEST_CASE("loss scale: mox::run scales, skips inf steps, logs the scale and keeps it in checkpoints") {
  TempDir dir("loss_scale_run");
  ScaledRun r;
  r.poison = {2, 3};
  RunArgs a = r.args(dir.str(), 6);
  RunResult res = run(a);
  // Two poisoned steps were skipped: 8 batches for 6 global steps, the scale halved twice and
  // then doubled after 4 good steps.
  CHECK(res.steps == 8);
  CHECK(res.global_step == 6);
  CHECK(res.skipped_steps == 2);
  CHECK(res.loss_scale == 512);
  CHECK(res.metrics.at("loss_scale") == 512);
  CHECK(res.metrics.at("skipped_steps") == 2);
  for (const Tensor& p : r.model->parameters()) {
    CHECK(p.dtype() == DType::f32);
    CHECK(std::isfinite(sum(abs(p)).item()));
  }
  // Summaries carry both values.
  std::set<std::string> tags;
  for (const std::string& f : dir.files())
    if (f.rfind("events.out.tfevents.", 0) == 0)
      for (const DecodedEvent& e : read_event_file(dir / f))
        for (auto& [tag, v] : e.values) tags.insert(tag);
  CHECK(tags.count("loss_scale"));
  CHECK(tags.count("skipped_steps"));
  // The checkpoint holds the scaler's state, and a resumed run continues from it.
  nn::Checkpoint ck = nn::load_checkpoint(latest_checkpoint(dir.str()));
  REQUIRE(ck.tensors.count("loss_scale/scale"));
  CHECK(ck.tensors.at("loss_scale/scale").item() == 512);
  CHECK(ck.tensors.at("loss_scale/skipped_steps").item() == 2);
  ScaledRun again;
  again.poison = {0};
  RunResult res2 = run(again.args(dir.str(), 8));
  CHECK(res2.global_step == 8);
  CHECK(res2.skipped_steps == 3);
  CHECK(res2.loss_scale == 256);
}

TEST_CASE("loss scale: a skipped step leaves the parameters and the global step untouched") {
  ScaledRun r;
  r.poison = {0};
  RunArgs a = r.args("", 0);
  a.optimizer_fn = nn::get_optimizer_fn("momentum", 0.1, {{"momentum", 0.9}});
  a.input_fn = [&r](ModeKeys, int64_t) {  // one batch, then the end of the input
    return data::batches({r.x.narrow(0, 0, 32), r.y.narrow(0, 0, 32)}, {.batch_size = 32, .num_epochs = 1});
  };
  std::vector<std::vector<double>> start;
  for (const Tensor& p : r.model->parameters()) start.push_back(p.tolist());
  RunResult res = run(a);
  CHECK(res.steps == 1);
  CHECK(res.global_step == 0);
  CHECK(res.skipped_steps == 1);
  std::vector<std::vector<double>> after;
  for (const Tensor& p : r.model->parameters()) after.push_back(p.tolist());
  CHECK(after == start);
  r.poison.clear();
  res = run(a);  // the same batch, finite: one update
  CHECK(res.global_step == 1);
  after.clear();
  for (const Tensor& p : r.model->parameters()) after.push_back(p.tolist());
  CHECK(after != start);
}

}  // namespace mox::test
