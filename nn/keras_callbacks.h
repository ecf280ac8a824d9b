// The pieces of Keras's training loop around keras::Model (nn/keras.h): Logs (named metric
// values in Keras's order), the Callback interface, ModelCheckpoint, TensorBoard, and the
// progress bar fit() and evaluate() print.
#pragma once
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nn/summary_writer.h"

namespace mox::nn::keras {

class Model;

// Metric values by name, in insertion order (loss, accuracy, val_loss, val_accuracy), as
// Keras passes them to callbacks and prints them.
class Logs {
 public:
  Logs() = default;
  Logs(std::initializer_list<std::pair<std::string, double>> items);
  // Sets key, keeping its first position.
  void set(const std::string& key, double value);
  bool contains(const std::string& key) const;
  // Raises mox::Error naming key and the keys present when it is missing.
  double at(const std::string& key) const;
  const std::vector<std::pair<std::string, double>>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  std::string keys_str() const;  // "loss, accuracy"

 private:
  std::vector<std::pair<std::string, double>> items_;
};

// Hooks into fit(). Epochs and batches are numbered from 0, as Keras numbers them; epoch logs
// hold the epoch's loss and metrics (averaged over its batches, weighted by batch size) and
// val_* ones when fit has validation data; batch logs hold the running averages so far.
class Callback {
 public:
  virtual ~Callback() = default;
  // fit() calls this before on_train_begin.
  void set_model(Model* model) { model_ = model; }
  Model* model() const { return model_; }

  virtual void on_train_begin(const Logs& /*logs*/) {}
  virtual void on_train_end(const Logs& /*logs*/) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_batch_begin(int64_t /*batch*/, const Logs& /*logs*/) {}
  virtual void on_batch_end(int64_t /*batch*/, const Logs& /*logs*/) {}

 protected:
  Model* model_ = nullptr;
};
using CallbackPtr = std::shared_ptr<Callback>;

// Expands Keras's file-name fields: {epoch} (1-based) and any key of logs, each optionally
// with a format spec {name:spec}, spec = [0][width][.precision](d|f|e|g), e.g.
// "ckpt-{epoch:02d}-{val_loss:.2f}.safetensors" -> "ckpt-03-0.12.safetensors". Unknown fields
// and bad specs raise mox::Error.
std::string format_filepath(const std::string& pattern, int epoch, const Logs& logs);

struct CheckpointOptions {
  std::string monitor = "val_loss";  // the logs key save_best_only compares
  bool save_best_only = false;       // save only when monitor improves on the best so far
  std::string mode = "auto";         // min, max, or auto: max for accuracies, else min
  int period = 1;                    // consider saving every period epochs
  int verbose = 0;                   // 1: print a line when saving
};

// Saves the model's weights (Model::save_weights: safetensors) at the end of epochs, to
// filepath with its fields expanded (format_filepath).
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string filepath, CheckpointOptions o = {});
  void on_train_begin(const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  // Every path written, in order (a path written twice appears twice).
  const std::vector<std::string>& saved() const { return saved_; }
  double best() const { return best_; }  // best monitored value so far (save_best_only)

 private:
  bool better(double value) const;
  std::string filepath_;
  CheckpointOptions o_;
  bool maximize_;
  double best_;
  std::vector<std::string> saved_;
};

// Writes the epoch logs (loss, accuracy, val_loss, val_accuracy) as TensorBoard scalars under
// their own names, at step = epoch (from 0), to an event file in log_dir; each fit() call
// starts a new file. update_freq > 0 also writes the running batch averages every update_freq
// batches as batch_<name>, at step = batches this callback has seen (counted across fits).
class TensorBoard : public Callback {
 public:
  explicit TensorBoard(std::string log_dir = "logs", int64_t update_freq = 0);
  void on_train_begin(const Logs& logs) override;
  void on_batch_end(int64_t batch, const Logs& logs) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  void on_train_end(const Logs& logs) override;
  // The event files written so far, one per fit() call.
  const std::vector<std::string>& event_files() const { return files_; }

 private:
  std::string log_dir_;
  int64_t update_freq_, batches_ = 0;
  std::unique_ptr<SummaryWriter> writer_;
  std::vector<std::string> files_;
};

// Keras's progress bar:
//   " 7/19 [=========>....................] - ETA: 1s - loss: 0.5432 - accuracy: 0.8011"
//   "19/19 [==============================] - 2s 105ms/step - loss: 0.2986 - accuracy: 0.9133"
// Dynamic (a terminal): update() redraws the line in place with \r, at most every 50 ms.
// Otherwise only finish() prints, one line. Values print as %.4f, or %.4e when |v| <= 1e-3.
class ProgressBar {
 public:
  ProgressBar(int64_t target, std::ostream& os, bool dynamic);
  void update(int64_t current, const Logs& values);
  void finish(const Logs& values);  // the final line (current = target) and a newline
  // The line for current steps done of target after elapsed seconds (no \r or newline).
  static std::string line(int64_t current, int64_t target, double elapsed_s, const Logs& values);

 private:
  double elapsed() const;
  int64_t target_;
  std::ostream& os_;
  bool dynamic_;
  std::chrono::steady_clock::time_point start_;
  double last_draw_ = -1;
  size_t width_ = 0;  // length of the line drawn last, to blank out a longer old one
};

}  // namespace mox::nn::keras
