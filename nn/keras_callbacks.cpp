#include "nn/keras_callbacks.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <regex>

#include "core/error.h"
#include "nn/keras.h"

namespace mox::nn::keras {
namespace {

template <class... Args>
std::string sformat(const char* fmt, Args... args) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, args...);
  return buf;
}

// One {name:spec} field; spec = [0][width][.precision](d|f|e|g), or empty.
std::string format_field(const std::string& name, const std::string& spec, double value, bool integral,
                         const std::string& pattern) {
  if (spec.empty()) return integral ? std::to_string(int64_t(value)) : sformat("%g", value);
  static const std::regex valid(R"(0?\d{0,3}(\.\d{1,2})?[dfeg])");
  MOX_CHECK(std::regex_match(spec, valid), "ModelCheckpoint", "bad format spec '", spec, "' for {", name,
            "} in '", pattern, "' (use [0][width][.precision] and d, f, e or g, e.g. {epoch:02d} {val_loss:.4f})");
  std::string f = "%" + spec;
  if (spec.back() == 'd') {
    f.insert(f.size() - 1, "ll");
    return sformat(f.c_str(), static_cast<long long>(std::llround(value)));
  }
  return sformat(f.c_str(), value);
}

// Expands pattern; with logs == nullptr only its syntax is checked.
std::string expand(const std::string& pattern, int epoch, const Logs* logs) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {  // {{ and }} escape
      out += c;
      ++i;
      continue;
    }
    MOX_CHECK(c != '}', "ModelCheckpoint", "unmatched '}' in file path '", pattern, "'");
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = pattern.find('}', i);
    MOX_CHECK(close != std::string::npos, "ModelCheckpoint", "unclosed '{' in file path '", pattern, "'");
    std::string field = pattern.substr(i + 1, close - i - 1), spec;
    if (size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    MOX_CHECK(!field.empty(), "ModelCheckpoint", "empty field name in file path '", pattern, "'");
    bool is_epoch = field == "epoch";
    double value = is_epoch ? epoch + 1 : 0;
    if (!is_epoch && logs) {
      MOX_CHECK(logs->contains(field), "ModelCheckpoint", "file path '", pattern, "' names {", field,
                "}, which is neither epoch nor a key of the epoch logs (", logs->keys_str(), ")");
      value = logs->at(field);
    }
    out += format_field(field, spec, value, is_epoch, pattern);
    i = close;
  }
  return out;
}

std::string format_eta(double eta) {
  if (eta > 3600) return sformat("%d:%02d:%02d", int(eta / 3600), int(std::fmod(eta, 3600) / 60), int(std::fmod(eta, 60)));
  if (eta > 60) return sformat("%d:%02d", int(eta / 60), int(std::fmod(eta, 60)));
  return sformat("%ds", int(eta));
}

}  // namespace

// ---- Logs

Logs::Logs(std::initializer_list<std::pair<std::string, double>> items) {
  for (auto& [k, v] : items) set(k, v);
}

void Logs::set(const std::string& key, double value) {
  for (auto& [k, v] : items_)
    if (k == key) {
      v = value;
      return;
    }
  items_.emplace_back(key, value);
}

bool Logs::contains(const std::string& key) const {
  for (auto& [k, v] : items_)
    if (k == key) return true;
  return false;
}

double Logs::at(const std::string& key) const {
  for (auto& [k, v] : items_)
    if (k == key) return v;
  throw Error("Logs: no key '" + key + "' (keys: " + (items_.empty() ? std::string("none") : keys_str()) + ")");
}

std::string Logs::keys_str() const {
  std::string s;
  for (auto& [k, v] : items_) s += (s.empty() ? "" : ", ") + k;
  return s;
}

std::string format_filepath(const std::string& pattern, int epoch, const Logs& logs) {
  return expand(pattern, epoch, &logs);
}

// ---- ModelCheckpoint

ModelCheckpoint::ModelCheckpoint(std::string filepath, CheckpointOptions o)
    : filepath_(std::move(filepath)), o_(std::move(o)) {
  MOX_CHECK(!filepath_.empty(), "ModelCheckpoint", "filepath is empty");
  MOX_CHECK(o_.period >= 1, "ModelCheckpoint", "period must be >= 1, got ", o_.period);
  MOX_CHECK(o_.mode == "auto" || o_.mode == "min" || o_.mode == "max", "ModelCheckpoint", "mode must be auto, min or max, got '",
            o_.mode, "'");
  MOX_CHECK(!o_.monitor.empty(), "ModelCheckpoint", "monitor is empty");
  expand(filepath_, 0, nullptr);  // a bad pattern fails now, not after the first epoch
  maximize_ = o_.mode == "max" ||
              (o_.mode == "auto" && (o_.monitor.find("acc") != std::string::npos || o_.monitor.rfind("fmeasure", 0) == 0));
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
}

void ModelCheckpoint::on_train_begin(const Logs&) {
  MOX_CHECK(model_ != nullptr, "ModelCheckpoint", "no model: pass the callback to Model::fit");
}

bool ModelCheckpoint::better(double value) const { return maximize_ ? value > best_ : value < best_; }

void ModelCheckpoint::on_epoch_end(int epoch, const Logs& logs) {
  if ((epoch + 1) % o_.period != 0) return;
  MOX_CHECK(model_ != nullptr, "ModelCheckpoint", "no model: pass the callback to Model::fit");
  std::string path = format_filepath(filepath_, epoch, logs);
  std::string tag = sformat("Epoch %05d: ", epoch + 1);
  if (o_.save_best_only) {
    MOX_CHECK(logs.contains(o_.monitor), "ModelCheckpoint", "save_best_only monitors '", o_.monitor,
              "', which the epoch logs lack (", logs.keys_str(), "); val_* values need fit's validation_data");
    double value = logs.at(o_.monitor);
    if (!better(value)) {
      if (o_.verbose) model_->output() << tag << o_.monitor << " did not improve from " << sformat("%.5f", best_) << "\n";
      return;
    }
    if (o_.verbose)
      model_->output() << tag << o_.monitor << " improved from " << sformat("%.5f", best_) << " to "
                       << sformat("%.5f", value) << ", saving model to " << path << "\n";
    best_ = value;
  } else if (o_.verbose) {
    model_->output() << tag << "saving model to " << path << "\n";
  }
  model_->save_weights(path);
  saved_.push_back(path);
}

// ---- TensorBoard

TensorBoard::TensorBoard(std::string log_dir, int64_t update_freq)
    : log_dir_(std::move(log_dir)), update_freq_(update_freq) {
  MOX_CHECK(!log_dir_.empty(), "TensorBoard", "log_dir is empty");
  MOX_CHECK(update_freq_ >= 0, "TensorBoard", "update_freq must be >= 0 (0: per epoch only), got ", update_freq_);
}

void TensorBoard::on_train_begin(const Logs&) {
  writer_ = std::make_unique<SummaryWriter>(log_dir_);
  files_.push_back(writer_->path());
}

void TensorBoard::on_batch_end(int64_t, const Logs& logs) {
  ++batches_;
  if (!writer_ || update_freq_ == 0 || batches_ % update_freq_ != 0) return;
  for (auto& [key, value] : logs.items()) writer_->add_scalar("batch_" + key, value, batches_);
}

void TensorBoard::on_epoch_end(int epoch, const Logs& logs) {
  MOX_CHECK(writer_ != nullptr, "TensorBoard", "on_epoch_end before on_train_begin");
  for (auto& [key, value] : logs.items()) writer_->add_scalar(key, value, epoch);
  writer_->flush();  // TensorBoard shows each epoch as it ends
}

void TensorBoard::on_train_end(const Logs&) {
  if (!writer_) return;
  writer_->close();
  writer_.reset();
}

// ---- ProgressBar

ProgressBar::ProgressBar(int64_t target, std::ostream& os, bool dynamic)
    : target_(target), os_(os), dynamic_(dynamic), start_(std::chrono::steady_clock::now()) {}

double ProgressBar::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::line(int64_t current, int64_t target, double elapsed_s, const Logs& values) {
  const int width = 30;
  int digits = int(std::to_string(target).size());
  std::string s = sformat("%*lld/%lld [", digits, static_cast<long long>(current), static_cast<long long>(target));
  int done = target > 0 ? int(std::min<double>(width, double(width) * double(current) / double(target))) : width;
  if (done > 0) s += std::string(size_t(done - 1), '=') + (current < target ? '>' : '=');
  s += std::string(size_t(width - done), '.') + "]";
  double per_step = current > 0 ? elapsed_s / double(current) : 0;
  if (current < target) {
    s += " - ETA: " + format_eta(per_step * double(target - current));
  } else {
    s += sformat(" - %.0fs", elapsed_s);
    if (per_step >= 1 || per_step == 0) s += sformat(" %.0fs/step", per_step);
    else if (per_step >= 1e-3) s += sformat(" %.0fms/step", per_step * 1e3);
    else s += sformat(" %.0fus/step", per_step * 1e6);
  }
  for (auto& [key, v] : values.items()) s += " - " + key + ": " + sformat(std::fabs(v) > 1e-3 ? "%.4f" : "%.4e", v);
  return s;
}

void ProgressBar::update(int64_t current, const Logs& values) {
  if (!dynamic_) return;
  double t = elapsed();
  if (last_draw_ >= 0 && t - last_draw_ < 0.05) return;
  last_draw_ = t;
  std::string s = line(current, target_, t, values);
  os_ << '\r' << s << std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') << std::flush;
  width_ = s.size();
}

void ProgressBar::finish(const Logs& values) {
  std::string s = line(target_, target_, elapsed(), values);
  if (dynamic_) os_ << '\r';
  os_ << s;
  if (dynamic_ && width_ > s.size()) os_ << std::string(width_ - s.size(), ' ');
  os_ << "\n" << std::flush;
}

}  // namespace mox::nn::keras
