// mox::run: training, checkpoint priority and resume, EVAL averaging, PREDICT output,
// hooks, and the errors a user meets first.
#include <filesystem>
#include <fstream>

#include "nn/layers.h"
#include "nn/run/hooks.h"
#include "nn/run/run.h"
#include "nn/sequential.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;
namespace {

// Two Gaussian blobs in 4-d, labels 0/1: separable, so a linear model learns it quickly.
struct Blobs {
  Tensor x, y;
};
Blobs blobs(int64_t n, uint64_t seed) {
  manual_seed(seed);
  Tensor y = randint(0, 2, {n});
  Tensor centers = mul(sub(mul(y.to(DType::f32), 2.0), ones({n})), 2.0).reshape({n, 1});
  return {add(randn({n, 4}), centers.expand({n, 4})), y};
}

struct Fixture {
  Blobs train = blobs(512, 1), test = blobs(256, 2);
  std::shared_ptr<nn::Sequential> model;
  std::string dir;

  explicit Fixture(const std::string& name) {
    manual_seed(7);
    model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Linear>(4, 2));
    dir = (fs::temp_directory_path() / ("mox_test_run_" + name)).string();
    fs::remove_all(dir);
  }
  ~Fixture() {
    if (!dir.empty()) fs::remove_all(dir);
  }

  RunArgs args(ModeKeys mode) {
    RunArgs a;
    a.input_fn = [this](ModeKeys m, int64_t bs) {
      const Blobs& b = m == ModeKeys::TRAIN ? train : test;
      return data::batches({b.x, b.y}, {.batch_size = bs, .shuffle = m == ModeKeys::TRAIN,
                                        .num_epochs = m == ModeKeys::TRAIN ? -1 : 1});
    };
    a.model_fn = [this](const Batch& b, ModeKeys) {
      Tensor logits = (*model)(b[0]);
      ModelSpec s;
      s.loss = cross_entropy(logits, b[1]);
      s.log_info = {{"loss", s.loss}, {"accuracy", mean(in_top_k(logits, b[1], 1).to(DType::f32))}};
      s.output_info = {{"label", argmax(logits, 1)}};
      return s;
    };
    a.optimizer_fn = nn::get_optimizer_fn("sgd", 0.1);
    a.model = model;
    a.run_mode = mode;
    a.batch_size = 32;
    a.log_dir = dir;
    a.verbose = false;
    return a;
  }
};

}  // namespace

TEST_CASE("run: TRAIN learns, writes checkpoints and summaries, EVAL reloads the same accuracy") {
  Fixture f("train");
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.max_number_of_steps = 60;
  a.save_model_steps = 20;
  a.save_summary_steps = 10;
  RunResult r = run(a);
  CHECK(r.steps == 60);
  CHECK(r.global_step == 60);
  CHECK(r.metrics.at("accuracy") > 0.8);
  CHECK(latest_checkpoint(f.dir) == f.dir + "/model.ckpt-60.safetensors");
  CHECK(fs::exists(f.dir + "/model.ckpt-20.safetensors"));
  bool events = false;
  for (auto& e : fs::directory_iterator(f.dir))
    events = events || e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  CHECK(events);

  RunResult e1 = run(f.args(ModeKeys::EVAL));
  CHECK(e1.samples == 256);
  CHECK(e1.metrics.at("accuracy") > 0.9);
  // A fresh model evaluated from the same log_dir restores the same weights.
  Fixture g("train_reload");
  g.dir = f.dir;
  g.test = f.test;
  RunResult e2 = run(g.args(ModeKeys::EVAL));
  CHECK(e2.metrics.at("accuracy") == doctest::Approx(e1.metrics.at("accuracy")));
  g.dir = "";  // f owns the directory
}

TEST_CASE("run: a second run resumes from the checkpoint in log_dir and stops at max_number_of_steps") {
  Fixture f("resume");
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.max_number_of_steps = 30;
  run(a);
  a.max_number_of_steps = 50;
  RunResult r = run(a);
  CHECK(r.steps == 20);
  CHECK(r.global_step == 50);
  RunResult again = run(a);  // already at the end: nothing to do
  CHECK(again.steps == 0);
}

TEST_CASE("run: checkpoint priority and fine-tuning with exclude patterns") {
  Fixture src("priority_src");
  RunArgs a = src.args(ModeKeys::TRAIN);
  a.max_number_of_steps = 10;
  run(a);
  std::string ckpt = latest_checkpoint(src.dir);
  REQUIRE(!ckpt.empty());

  SUBCASE("checkpoint_path is loaded when log_dir has none") {
    Fixture f("priority_dst");
    RunArgs e = f.args(ModeKeys::EVAL);
    e.checkpoint_path = src.dir;  // a directory works like the file it names
    RunResult r = run(e);
    CHECK(r.checkpoint == ckpt);
    CHECK_ALLCLOSE(f.model->state_dict().at("dense.weight"), src.model->state_dict().at("dense.weight"),
                   tolerance_for(DType::f64));
  }
  SUBCASE("excluded names keep their fresh values") {
    Fixture f("priority_exclude");
    Tensor fresh = f.model->state_dict().at("dense.bias").clone();
    RunArgs e = f.args(ModeKeys::TRAIN);
    e.checkpoint_path = ckpt;
    e.checkpoint_exclude_patterns = {"bias$"};
    e.max_number_of_steps = 0;
    e.input_fn = [](ModeKeys, int64_t) { return BatchSource([] { return std::optional<Batch>(); }); };
    run(e);
    CHECK_ALLCLOSE(f.model->state_dict().at("dense.bias"), fresh, tolerance_for(DType::f64));
    CHECK_ALLCLOSE(f.model->state_dict().at("dense.weight"), src.model->state_dict().at("dense.weight"),
                   tolerance_for(DType::f64));
  }
  SUBCASE("EVAL without any checkpoint fails clearly") {
    Fixture f("priority_none");
    CHECK_THROWS_WITH_AS(run(f.args(ModeKeys::EVAL)), doctest::Contains("EVAL mode needs a checkpoint"), Error);
  }
  SUBCASE("a checkpoint of another model names the entry") {
    Fixture f("priority_wrong");
    f.model = std::make_shared<nn::Sequential>();
    f.model->add(std::make_shared<nn::Linear>(4, 3));
    RunArgs e = f.args(ModeKeys::EVAL);
    e.checkpoint_path = ckpt;
    CHECK_THROWS_WITH_AS(run(e), doctest::Contains("entry 'dense.bias' has shape [2] but the model expects [3]"), Error);
  }
}

TEST_CASE("run: PREDICT hands output_info to output_fn for every batch") {
  Fixture f("predict");
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.max_number_of_steps = 5;
  run(a);
  RunArgs p = f.args(ModeKeys::PREDICT);
  int64_t rows = 0;
  p.output_fn = [&](const std::map<std::string, Tensor>& o) { rows += o.at("label").numel(); };
  run(p);
  CHECK(rows == 256);
  RunArgs missing = f.args(ModeKeys::PREDICT);
  CHECK_THROWS_WITH_AS(run(missing), doctest::Contains("output_fn"), Error);
}

TEST_CASE("run: EarlyStoppingHook stops once the metric stops improving") {
  Fixture f("early");
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.inter_mode = ModeKeys::EVAL;
  a.max_number_of_steps = 10000;
  auto hook = std::make_shared<EarlyStoppingHook>(
      EvaluationOptions{.monitor_info = {"accuracy"}, .batch_size = 32, .samples_in_train = 64,
                        .samples_in_eval = 256},
      "accuracy", 0.01, 3);
  ModelFn inner = a.model_fn;
  a.model_fn = [&](const Batch& b, ModeKeys m) {
    ModelSpec s = inner(b, m);
    s.hooks = {hook};
    return s;
  };
  RunResult r = run(a);
  CHECK(r.stopped_by_hook);
  CHECK(r.global_step < 10000);
  CHECK(hook->history().size() >= 4);  // the first evaluation plus `patience` without gain
}

TEST_CASE("run: bad arguments raise mox::Error") {
  Fixture f("bad");
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.batch_size = 0;
  CHECK_THROWS_WITH_AS(run(a), doctest::Contains("batch_size"), Error);
  a = f.args(ModeKeys::TRAIN);
  a.optimizer_fn = nullptr;
  CHECK_THROWS_WITH_AS(run(a), doctest::Contains("optimizer_fn"), Error);
  a = f.args(ModeKeys::TRAIN);
  a.export_model = true;
  CHECK_THROWS_WITH_AS(run(a), doctest::Contains("export_model"), Error);
}

}  // namespace mox::test

namespace mox::test {

TEST_CASE("run: several losses each train only the parameters in their var_scopes") {
  Fixture f("scopes");
  f.model = std::make_shared<nn::Sequential>();
  f.model->add(std::make_shared<nn::Linear>(4, 4));
  f.model->add(std::make_shared<nn::Linear>(4, 2));
  std::map<std::string, Tensor> before = f.model->state_dict();
  for (auto& [n, t] : before) t = t.clone();
  RunArgs a = f.args(ModeKeys::TRAIN);
  a.max_number_of_steps = 3;
  a.model_fn = [&](const Batch& b, ModeKeys) {
    Tensor logits = (*f.model)(b[0]);
    ModelSpec s;
    Tensor ce = cross_entropy(logits, b[1]);
    // The first loss may only move "dense.*", the second only "dense_1.*".
    s.losses = {{ce, {"dense."}}, {mul(sum(mul(logits, logits)), 0.01), {"dense_1."}}};
    s.log_info = {{"loss", ce}};
    return s;
  };
  run(a);
  std::map<std::string, Tensor> after = f.model->state_dict();
  for (const char* name : {"dense.weight", "dense.bias", "dense_1.weight", "dense_1.bias"})
    CHECK_MESSAGE(!allclose_message(after.at(name), before.at(name), tolerance_for(DType::f64)).empty(),
                  name, " did not change");

  // With the second loss scoped to nothing that exists, dense_1 stays put.
  Fixture g("scopes_frozen");
  g.model = f.model;
  g.dir = f.dir + "_frozen";
  std::map<std::string, Tensor> start = g.model->state_dict();
  for (auto& [n, t] : start) t = t.clone();
  RunArgs c = g.args(ModeKeys::TRAIN);
  c.max_number_of_steps = 3;
  c.model_fn = [&](const Batch& b, ModeKeys) {
    ModelSpec s;
    s.losses = {{cross_entropy((*g.model)(b[0]), b[1]), {"dense."}}};
    return s;
  };
  run(c);
  std::map<std::string, Tensor> end = g.model->state_dict();
  CHECK_ALLCLOSE(end.at("dense_1.weight"), start.at("dense_1.weight"), tolerance_for(DType::f64));
  CHECK(!allclose_message(end.at("dense.weight"), start.at("dense.weight"), tolerance_for(DType::f64)).empty());
}

}  // namespace mox::test
