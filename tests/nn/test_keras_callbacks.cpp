// Keras callbacks: the order fit() calls them in, stop_training, ModelCheckpoint's file names,
// period and save_best_only, TensorBoard's event files, and the progress bar's format.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <regex>
#include <sstream>

#include "tests/nn/event_reader.h"
#include "tests/nn/keras_fixtures.h"

namespace mox::test {
namespace {

using nn::keras::Logs;
using nn::keras::Model;

// Records every call as a short string ("epoch_end 1 loss,accuracy").
class Recorder : public nn::keras::Callback {
 public:
  std::vector<std::string> calls;
  std::vector<Logs> epoch_logs, batch_logs;
  int stop_after = -1;
  static std::string keys(const Logs& l) {
    std::string s;
    for (auto& [k, v] : l.items()) s += (s.empty() ? "" : ",") + k;
    return s;
  }
  void on_train_begin(const Logs& l) override { calls.push_back("train_begin " + keys(l)); }
  void on_train_end(const Logs& l) override { calls.push_back("train_end " + keys(l)); }
  void on_epoch_begin(int e, const Logs&) override { calls.push_back("epoch_begin " + std::to_string(e)); }
  void on_epoch_end(int e, const Logs& l) override {
    calls.push_back("epoch_end " + std::to_string(e) + " " + keys(l));
    epoch_logs.push_back(l);
    if (e == stop_after) model()->stop_training = true;
  }
  void on_batch_begin(int64_t b, const Logs&) override { calls.push_back("batch_begin " + std::to_string(b)); }
  void on_batch_end(int64_t b, const Logs& l) override {
    calls.push_back("batch_end " + std::to_string(b));
    batch_logs.push_back(l);
  }
};

nn::keras::CheckpointOptions best_of(const std::string& monitor) {
  nn::keras::CheckpointOptions o;
  o.monitor = monitor;
  o.save_best_only = true;
  return o;
}

}  // namespace

TEST_CASE("keras callbacks: fit calls them in Keras's order with the epoch and batch logs") {
  Blobs train = make_blobs(40, 40), val = make_blobs(12, 41);
  Model model(make_mlp(42), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  auto rec = std::make_shared<Recorder>();
  auto h = model.fit(train.x, train.y, 2, 16, std::make_pair(val.x, val.y), {rec}, true, 0);
  CHECK(rec->model() == &model);
  std::vector<std::string> want = {"train_begin "};
  for (int e = 0; e < 2; ++e) {
    want.push_back("epoch_begin " + std::to_string(e));
    for (int b = 0; b < 3; ++b) {
      want.push_back("batch_begin " + std::to_string(b));
      want.push_back("batch_end " + std::to_string(b));
    }
    want.push_back("epoch_end " + std::to_string(e) + " loss,accuracy,val_loss,val_accuracy");
  }
  want.push_back("train_end loss,accuracy,val_loss,val_accuracy");
  CHECK(rec->calls == want);
  // The epoch's loss is the batch-size-weighted mean the last batch reports.
  REQUIRE(rec->batch_logs.size() == 6);
  CHECK(rec->batch_logs[2].at("loss") == rec->epoch_logs[0].at("loss"));
  CHECK(rec->batch_logs[5].at("accuracy") == rec->epoch_logs[1].at("accuracy"));
  CHECK(rec->epoch_logs[1].at("val_loss") == h["val_loss"][1]);
  CHECK_THROWS_WITH_AS(rec->epoch_logs[0].at("lr"), doctest::Contains("loss, accuracy, val_loss, val_accuracy"), Error);
}

TEST_CASE("keras callbacks: setting stop_training ends fit after that epoch") {
  Blobs train = make_blobs(30, 43);
  Model model(make_mlp(44), {2});
  model.compile(adam(), "sparse_categorical_crossentropy");
  auto rec = std::make_shared<Recorder>();
  rec->stop_after = 1;
  auto h = model.fit(train.x, train.y, 10, 32, std::nullopt, {rec}, true, 0);
  CHECK(h.epoch == std::vector<int>{0, 1});
  CHECK(h["loss"].size() == 2);
  CHECK(rec->calls.back() == "train_end loss");
  // The next fit starts afresh.
  rec->stop_after = -1;
  CHECK(model.fit(train.x, train.y, 3, 32, std::nullopt, {rec}, true, 0).epoch.size() == 3);
  CHECK_THROWS_WITH_AS(model.fit(train.x, train.y, 1, 32, std::nullopt, {nullptr}, true, 0),
                       doctest::Contains("callback 0 is null"), Error);
}

TEST_CASE("keras callbacks: file paths expand {epoch:02d} and log keys like Keras") {
  Logs logs{{"loss", 0.123456}, {"val_loss", 1.5}};
  using nn::keras::format_filepath;
  CHECK(format_filepath("w-{epoch:02d}.safetensors", 2, logs) == "w-03.safetensors");
  CHECK(format_filepath("ckpt-{epoch:04d}", 11, logs) == "ckpt-0012");
  CHECK(format_filepath("{epoch}-{loss:.2f}-{val_loss:.1e}", 0, logs) == "1-0.12-1.5e+00");
  CHECK(format_filepath("{{epoch}}/{epoch:3d}", 4, logs) == "{epoch}/  5");
  CHECK(format_filepath("plain.safetensors", 4, logs) == "plain.safetensors");
  CHECK_THROWS_WITH_AS(format_filepath("{val_acc:.2f}", 0, logs), doctest::Contains("loss, val_loss"), Error);
  CHECK_THROWS_WITH_AS(format_filepath("{epoch:x}", 0, logs), doctest::Contains("bad format spec 'x'"), Error);
  // Syntax errors show at construction, before any training.
  CHECK_THROWS_WITH_AS(nn::keras::ModelCheckpoint("w-{epoch.st"), doctest::Contains("unclosed '{'"), Error);
  CHECK_THROWS_WITH_AS(nn::keras::ModelCheckpoint("w-}.st"), doctest::Contains("unmatched '}'"), Error);
  CHECK_THROWS_WITH_AS(nn::keras::ModelCheckpoint("w-{epoch:q}"), doctest::Contains("bad format spec"), Error);
  nn::keras::CheckpointOptions bad_mode;
  bad_mode.mode = "up";
  CHECK_THROWS_WITH_AS(nn::keras::ModelCheckpoint("w", bad_mode), doctest::Contains("auto, min or max"), Error);
}

TEST_CASE("keras callbacks: ModelCheckpoint writes one loadable file per epoch (or per period)") {
  TempDir tmp("keras_ckpt");
  Blobs train = make_blobs(30, 45);
  Model model(make_mlp(46), {2});
  model.compile(adam(), "sparse_categorical_crossentropy");
  auto every = std::make_shared<nn::keras::ModelCheckpoint>(tmp / "w-{epoch:02d}.safetensors");
  nn::keras::CheckpointOptions o;
  o.period = 2;
  auto second = std::make_shared<nn::keras::ModelCheckpoint>(tmp / "p/even-{epoch:02d}.safetensors", o);
  model.fit(train.x, train.y, 4, 16, std::nullopt, {every, second}, true, 0);
  CHECK(tmp.files() == std::vector<std::string>{"w-01.safetensors", "w-02.safetensors", "w-03.safetensors",
                                                "w-04.safetensors"});
  CHECK(every->saved().back() == tmp / "w-04.safetensors");
  CHECK(second->saved() == std::vector<std::string>{tmp / "p/even-02.safetensors", tmp / "p/even-04.safetensors"});
  // The last file holds the final weights; an earlier one differs.
  Model copy(make_mlp(47), {2});
  copy.load_weights(tmp / "w-04.safetensors");
  CHECK(copy.predict(train.x).tolist() == model.predict(train.x).tolist());
  copy.load_weights(tmp / "w-01.safetensors");
  CHECK(copy.predict(train.x).tolist() != model.predict(train.x).tolist());
}

TEST_CASE("keras callbacks: save_best_only saves only when the monitored value improves") {
  TempDir tmp("keras_best");
  Model model(make_mlp(48), {2});
  SUBCASE("val_loss is minimized") {
    nn::keras::ModelCheckpoint cp(tmp / "best-{epoch:02d}.safetensors", best_of("val_loss"));
    cp.set_model(&model);
    int epoch = 0;
    for (double v : {0.5, 0.4, 0.45, 0.4, 0.3}) cp.on_epoch_end(epoch++, Logs{{"val_loss", v}});
    CHECK(cp.saved() == std::vector<std::string>{tmp / "best-01.safetensors", tmp / "best-02.safetensors",
                                                 tmp / "best-05.safetensors"});
    CHECK(tmp.files().size() == 3);
    CHECK(cp.best() == 0.3);
  }
  SUBCASE("accuracies are maximized under mode auto, and the file keeps the best weights") {
    nn::keras::CheckpointOptions o = best_of("val_accuracy");
    o.verbose = 1;
    std::ostringstream os;
    model.set_output(os);
    nn::keras::ModelCheckpoint cp(tmp / "best.safetensors", o);
    cp.set_model(&model);
    Blobs data = make_blobs(9, 49);
    cp.on_epoch_end(0, Logs{{"val_accuracy", 0.8}});
    cp.on_epoch_end(1, Logs{{"val_accuracy", 0.9}});
    Tensor best_pred = model.predict(data.x);
    {
      NoGradGuard no_grad;
      for (Tensor& p : model.net().parameters()) p.mul_(0.5);
    }
    cp.on_epoch_end(2, Logs{{"val_accuracy", 0.85}});
    cp.on_epoch_end(3, Logs{{"val_accuracy", 0.9}});  // equal is no improvement
    CHECK(cp.saved().size() == 2);
    CHECK(cp.best() == 0.9);
    Model loaded(make_mlp(50), {2});
    loaded.load_weights(tmp / "best.safetensors");
    CHECK(loaded.predict(data.x).tolist() == best_pred.tolist());
    CHECK(os.str().find("Epoch 00002: val_accuracy improved from 0.80000 to 0.90000, saving model to") != std::string::npos);
    CHECK(os.str().find("Epoch 00003: val_accuracy did not improve from 0.90000") != std::string::npos);
  }
  SUBCASE("in a real fit, files appear exactly at the improvements of val_loss") {
    Blobs train = make_blobs(45, 51), val = make_blobs(30, 52);
    model.compile(adam(0.05), "sparse_categorical_crossentropy");
    auto cp = std::make_shared<nn::keras::ModelCheckpoint>(tmp / "e{epoch:02d}.safetensors", best_of("val_loss"));
    auto h = model.fit(train.x, train.y, 6, 8, std::make_pair(val.x, val.y), {cp}, true, 0);
    std::vector<std::string> want;
    double best = INFINITY;
    for (size_t e = 0; e < 6; ++e)
      if (h["val_loss"][e] < best) {
        best = h["val_loss"][e];
        want.push_back(nn::keras::format_filepath(tmp / "e{epoch:02d}.safetensors", int(e), Logs{}));
      }
    CHECK(cp->saved() == want);
    CHECK(tmp.files().size() == want.size());
  }
  SUBCASE("a monitor missing from the logs is an error that names the keys") {
    Blobs train = make_blobs(15, 53);
    model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
    auto cp = std::make_shared<nn::keras::ModelCheckpoint>(tmp / "x.safetensors", best_of("val_loss"));
    CHECK_THROWS_WITH_AS(model.fit(train.x, train.y, 1, 8, std::nullopt, {cp}, true, 0),
                         doctest::Contains("'val_loss', which the epoch logs lack (loss, accuracy)"), Error);
  }
}

TEST_CASE("keras callbacks: TensorBoard writes the epoch logs as scalars at step = epoch") {
  TempDir tmp("keras_tb");
  Blobs train = make_blobs(40, 54), val = make_blobs(20, 55);
  Model model(make_mlp(56), {2});
  model.compile(adam(), "sparse_categorical_crossentropy", {"accuracy"});
  auto tb = std::make_shared<nn::keras::TensorBoard>(tmp / "logs");
  auto h = model.fit(train.x, train.y, 3, 16, std::make_pair(val.x, val.y), {tb}, true, 0);
  std::string file = only_event_file(tmp / "logs");
  CHECK(tb->event_files() == std::vector<std::string>{file});
  auto events = read_event_file(file);
  REQUIRE(events.size() == 1 + 3 * 4);
  CHECK(events[0].file_version == "brain.Event:2");
  size_t i = 1;
  for (int epoch = 0; epoch < 3; ++epoch)
    for (std::string tag : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
      CAPTURE(epoch);
      CAPTURE(tag);
      const DecodedEvent& e = events[i++];
      CHECK(e.step == epoch);
      REQUIRE(e.values.size() == 1);
      CHECK(e.values[0].first == tag);
      CHECK(e.values[0].second == float(h[tag][size_t(epoch)]));
    }
  // A second fit starts a second file.
  model.fit(train.x, train.y, 1, 16, std::nullopt, {tb}, true, 0);
  CHECK(tb->event_files().size() == 2);
  auto second = read_event_file(tb->event_files()[1]);
  REQUIRE(second.size() == 3);
  CHECK(second[1].values[0].first == "loss");
  CHECK(second[2].values[0].first == "accuracy");
  CHECK(second[2].step == 0);
}

TEST_CASE("keras callbacks: TensorBoard update_freq adds batch_* scalars every n batches") {
  TempDir tmp("keras_tb_batch");
  Blobs train = make_blobs(40, 57);
  Model model(make_mlp(58), {2});
  model.compile(adam(), "sparse_categorical_crossentropy");
  auto tb = std::make_shared<nn::keras::TensorBoard>(tmp.str(), 2);
  model.fit(train.x, train.y, 2, 8, std::nullopt, {tb}, true, 0);  // 5 batches an epoch
  std::vector<std::pair<std::string, int64_t>> got;
  for (auto& e : read_event_file(only_event_file(tmp.str())))
    for (auto& [tag, v] : e.values) got.emplace_back(tag, e.step);
  std::vector<std::pair<std::string, int64_t>> want = {{"batch_loss", 2}, {"batch_loss", 4}, {"loss", 0},
                                                       {"batch_loss", 6}, {"batch_loss", 8}, {"batch_loss", 10},
                                                       {"loss", 1}};
  CHECK(got == want);
  CHECK_THROWS_AS(nn::keras::TensorBoard(tmp.str(), -1), Error);
}

TEST_CASE("keras callbacks: the progress bar draws Keras's line") {
  using nn::keras::ProgressBar;
  Logs l{{"loss", 0.54321}, {"accuracy", 0.80109}};
  CHECK(ProgressBar::line(7, 19, 1.9, l) ==
        " 7/19 [==========>...................] - ETA: 3s - loss: 0.5432 - accuracy: 0.8011");
  CHECK(ProgressBar::line(19, 19, 2.0, l) ==
        "19/19 [==============================] - 2s 105ms/step - loss: 0.5432 - accuracy: 0.8011");
  CHECK(ProgressBar::line(1875, 1875, 12.3, Logs{{"loss", 0.2986}}) ==
        "1875/1875 [==============================] - 12s 7ms/step - loss: 0.2986");
  CHECK(ProgressBar::line(0, 4, 0, Logs{}) == "0/4 [..............................] - ETA: 0s");
  CHECK(ProgressBar::line(3, 3, 0.0003, Logs{{"loss", 0.0001}}) ==
        "3/3 [==============================] - 0s 100us/step - loss: 1.0000e-04");
  CHECK(ProgressBar::line(1, 100, 10, Logs{}).find("ETA: 16:30") != std::string::npos);
  CHECK(ProgressBar::line(1, 1000, 10, Logs{}).find("ETA: 2:46:30") != std::string::npos);
  CHECK(ProgressBar::line(2, 2, 3, Logs{}).find(" - 3s 2s/step") != std::string::npos);

  std::ostringstream plain;
  ProgressBar quiet(3, plain, false);
  quiet.update(1, l);
  CHECK(plain.str().empty());  // not a terminal: only the final line
  quiet.finish(l);
  CHECK(std::regex_match(plain.str(), std::regex(R"(3/3 \[=+\] - .* - loss: 0\.5432 - accuracy: 0\.8011\n)")));

  std::ostringstream tty;
  ProgressBar live(3, tty, true);
  live.update(1, Logs{{"loss", 123456789.0}});
  live.finish(Logs{{"loss", 1.0}});
  std::string s = tty.str();
  REQUIRE(s.size() > 2);
  CHECK(s.front() == '\r');
  CHECK(s.find("ETA") != std::string::npos);
  CHECK(s.back() == '\n');
  std::string first = s.substr(1, s.rfind('\r') - 1), last = s.substr(s.rfind('\r') + 1);
  CHECK(first.rfind("1/3 [", 0) == 0);
  CHECK(last.rfind("3/3 [", 0) == 0);
  // The final line blanks out the tail of the longer line before it.
  CHECK(last.size() == first.size() + 1);
  CHECK(last.find("loss: 1.0000 ") != std::string::npos);
}

}  // namespace mox::test
