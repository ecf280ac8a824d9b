#include "nn/run/run.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "nn/checkpoint.h"
#include "nn/run/data_parallel.h"
#include "nn/summary_writer.h"

namespace mox {
namespace fs = std::filesystem;

const char* mode_name(ModeKeys m) {
  switch (m) {
    case ModeKeys::TRAIN: return "TRAIN";
    case ModeKeys::EVAL: return "EVAL";
    case ModeKeys::PREDICT: return "PREDICT";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCheckpointsKept = 5;

std::string checkpoint_name(int64_t step) { return "model.ckpt-" + std::to_string(step) + ".safetensors"; }

// Writes the index naming the latest checkpoint (temporary file + rename) and removes
// checkpoints older than the newest few.
void write_index(const std::string& dir, int64_t step) {
  std::string tmp = dir + "/checkpoint.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "model_checkpoint_path: \"" << checkpoint_name(step) << "\"\n";
    MOX_CHECK_T(IOError, out.good(), "run", "cannot write ", tmp);
  }
  fs::rename(tmp, dir + "/checkpoint");
  std::vector<std::pair<int64_t, fs::path>> found;
  std::regex pattern(R"(model\.ckpt-(\d+)\.safetensors)");
  for (auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pattern)) found.emplace_back(std::stoll(m[1]), e.path());
  }
  std::sort(found.begin(), found.end());
  for (size_t i = 0; i + kCheckpointsKept < found.size(); ++i) fs::remove(found[i].second);
}

std::string save(const RunArgs& a, const nn::Optimizer* opt, const nn::LossScaler& scaler, int64_t step) {
  nn::Checkpoint ck;
  for (auto& [name, t] : a.model->state_dict()) ck.tensors["model/" + name] = t;
  if (opt) {
    for (auto& [name, t] : opt->state_dict()) ck.tensors["optimizer/" + name] = t;
    ck.metadata["optimizer"] = opt->name();
  }
  if (scaler.enabled())
    for (auto& [name, t] : scaler.state_dict()) ck.tensors["loss_scale/" + name] = t;
  ck.metadata["global_step"] = std::to_string(step);
  fs::create_directories(a.log_dir);
  std::string path = a.log_dir + "/" + checkpoint_name(step);
  nn::save_checkpoint(path, ck);
  write_index(a.log_dir, step);
  return path;
}

bool excluded(const std::string& name, const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns)
    if (std::regex_search(name, std::regex(p))) return true;
  return false;
}

// MoXing's order: a checkpoint in log_dir (resume), else checkpoint_path (warm start, minus
// the excluded names), else fresh parameters in TRAIN and an error otherwise. Returns the
// file loaded, or "". A resumed run also gets the loss scaler's state back (when the
// checkpoint has one).
std::string restore(const RunArgs& a, nn::Optimizer* opt, nn::LossScaler* scaler = nullptr) {
  std::string from_log = a.log_dir.empty() ? "" : latest_checkpoint(a.log_dir);
  std::string path = from_log;
  if (path.empty() && !a.checkpoint_path.empty()) {
    path = fs::is_directory(a.checkpoint_path) ? latest_checkpoint(a.checkpoint_path) : a.checkpoint_path;
    MOX_CHECK_T(IOError, !path.empty() && fs::exists(path), "run", "checkpoint_path ", a.checkpoint_path,
                " holds no checkpoint");
  }
  if (path.empty()) {
    MOX_CHECK(a.run_mode == ModeKeys::TRAIN, "run", mode_name(a.run_mode),
              " mode needs a checkpoint: none in log_dir '", a.log_dir, "' and no checkpoint_path given");
    return "";
  }
  nn::Checkpoint ck = nn::load_checkpoint(path);
  bool resuming = !from_log.empty();
  std::map<std::string, Tensor> model_state, opt_state, scale_state;
  for (auto& [name, t] : ck.tensors) {
    if (name.rfind("model/", 0) == 0) {
      std::string n = name.substr(6);
      if (resuming || !excluded(n, a.checkpoint_exclude_patterns)) model_state[n] = t;
    } else if (name.rfind("optimizer/", 0) == 0) {
      opt_state[name.substr(10)] = t;
    } else if (name.rfind("loss_scale/", 0) == 0) {
      scale_state[name.substr(11)] = t;
    }
  }
  try {
    a.model->load_state_dict(model_state, resuming || a.checkpoint_exclude_patterns.empty());
  } catch (const Error& e) {
    throw Error(std::string("run: checkpoint ") + path + " does not fit the model: " + e.what());
  }
  if (opt && resuming) {
    opt->load_state_dict(opt_state);
    auto it = ck.metadata.find("global_step");
    if (it != ck.metadata.end()) opt->set_global_step(std::stoll(it->second));
  }
  if (scaler && resuming && scaler->enabled() && !scale_state.empty()) scaler->load_state_dict(scale_state);
  return path;
}

// Total loss, parameters trained by it: the single loss plus regularization, or each of
// several losses with its var_scopes. Every loss is multiplied by the loss scale first.
void backward_losses(const ModelSpec& spec, nn::Module& model, const nn::LossScaler& scaler) {
  if (spec.losses.empty()) {
    MOX_CHECK(spec.loss.defined(), "run", "model_fn returned a ModelSpec without a loss in TRAIN mode");
    Tensor total = spec.loss;
    for (const Tensor& r : model.regularization_losses()) total = add(total, r);
    scaler.scale(total).backward();
    return;
  }
  nn::NamedTensors params = model.named_parameters();
  for (size_t i = 0; i < spec.losses.size(); ++i) {
    const LossSpec& ls = spec.losses[i];
    std::vector<Tensor> before;
    for (auto& [n, p] : params) before.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
    scaler.scale(ls.loss).backward(Tensor(), i + 1 < spec.losses.size());
    for (size_t k = 0; k < params.size(); ++k) {
      bool in_scope = ls.var_scopes.empty();
      for (const std::string& s : ls.var_scopes) in_scope = in_scope || params[k].first.rfind(s, 0) == 0;
      if (!in_scope) params[k].second.set_grad(before[k]);
    }
  }
}

std::map<std::string, double> values_of(const ModelSpec& spec) {
  std::map<std::string, double> v;
  for (auto& [name, t] : spec.log_info) v[name] = t.item();
  if (!v.count("loss") && spec.loss.defined()) v["loss"] = spec.loss.item();
  return v;
}

std::string log_line(int64_t step, int64_t global_step, double rate, const std::map<std::string, double>& v) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(3);
  os << "step: " << step << "(global step: " << global_step << ")\tsample/sec: " << rate;
  if (v.count("loss")) os << "\tloss: " << v.at("loss");
  for (auto& [name, value] : v)
    if (name != "loss") os << "\t" << name << ": " << value;
  return os.str();
}

int64_t batch_samples(const Batch& b) { return b.empty() || b[0].dim() == 0 ? 1 : b[0].size(0); }

RunResult train(const RunArgs& a) {
  RunResult r;
  auto opt = a.optimizer_fn(a.model->parameters());
  nn::LossScaler scaler = a.loss_scale;
  r.checkpoint = restore(a, opt.get(), &scaler);
  a.model->train();
  DataParallel* dp = a.data_parallel.get();
  const bool chief = !dp || dp->chief();  // the rank that logs and writes log_dir
  if (dp) dp->begin(*a.model);
  BatchSource input = dp ? dp->input(a.input_fn, ModeKeys::TRAIN, a.batch_size) : a.input_fn(ModeKeys::TRAIN, a.batch_size);
  std::unique_ptr<nn::SummaryWriter> summary;
  if (chief && !a.log_dir.empty() && a.save_summary_steps > 0) summary = std::make_unique<nn::SummaryWriter>(a.log_dir);
  std::vector<std::shared_ptr<Hook>> hooks;
  auto start = Clock::now(), last_log = start, last_save = start;
  int64_t samples_since_log = 0, saved_at = opt->global_step();
  while (a.max_number_of_steps <= 0 || opt->global_step() < a.max_number_of_steps) {
    std::optional<Batch> batch = input();
    if (!batch) break;
    ModelSpec spec = a.model_fn(*batch, ModeKeys::TRAIN);
    if (r.steps == 0) {
      hooks = spec.hooks;
      for (auto& h : hooks) h->begin(a);
    }
    opt->zero_grad();
    if (dp) dp->before_backward();
    backward_losses(spec, *a.model, scaler);
    if (dp) dp->after_backward();
    // A step whose (unscaled) gradients hold inf or NaN is skipped: no update, no global step.
    bool stepped = scaler.update(scaler.unscale(opt->params()));
    if (stepped) opt->step();
    int64_t n = batch_samples(*batch), gstep = opt->global_step();
    r.samples += n;
    samples_since_log += n;
    std::map<std::string, double> values = values_of(spec);
    if (dp) values = dp->average(values);
    if (scaler.enabled()) {
      values["loss_scale"] = scaler.scale();
      values["skipped_steps"] = double(scaler.skipped_steps());
    }
    if (a.log_every_n_steps > 0 && r.steps % a.log_every_n_steps == 0) {
      double dt = std::chrono::duration<double>(Clock::now() - last_log).count();
      if (a.verbose && chief) std::cout << log_line(r.steps, gstep, double(samples_since_log) / std::max(dt, 1e-9), values) << std::endl;
      last_log = Clock::now();
      samples_since_log = 0;
    }
    if (summary && stepped && gstep % a.save_summary_steps == 0) {
      for (auto& [name, value] : values) summary->add_scalar(name, value, gstep);
      summary->add_scalar("learning_rate", opt->learning_rate(), gstep);
    }
    ++r.steps;
    r.metrics = values;
    bool by_secs = a.save_model_secs > 0 &&
                   std::chrono::duration<double>(Clock::now() - last_save).count() >= a.save_model_secs;
    bool by_steps = a.save_model_secs <= 0 && a.save_model_steps > 0 && gstep % a.save_model_steps == 0;
    if (chief && stepped && !a.log_dir.empty() && (by_secs || by_steps)) {
      r.checkpoint = save(a, opt.get(), scaler, gstep);
      saved_at = gstep;
      last_save = Clock::now();
    }
    for (auto& h : hooks) h->after_step({gstep, values});
    bool stop = false;
    for (auto& h : hooks) stop = stop || h->should_stop();
    if (stop) {
      r.stopped_by_hook = true;
      break;
    }
  }
  for (auto& h : hooks) h->end();
  r.global_step = opt->global_step();
  if (chief && !a.log_dir.empty() && saved_at != r.global_step) r.checkpoint = save(a, opt.get(), scaler, r.global_step);
  r.loss_scale = scaler.scale();
  r.skipped_steps = scaler.skipped_steps();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return r;
}

RunResult infer(const RunArgs& a) {
  RunResult r;
  r.checkpoint = restore(a, nullptr);
  a.model->eval();
  NoGradGuard no_grad;
  BatchSource input = a.input_fn(a.run_mode, a.batch_size);
  auto start = Clock::now();
  std::map<std::string, double> sums;
  while (a.max_number_of_steps <= 0 || r.steps < a.max_number_of_steps) {
    std::optional<Batch> batch = input();
    if (!batch) break;
    ModelSpec spec = a.model_fn(*batch, a.run_mode);
    int64_t n = batch_samples(*batch);
    if (a.run_mode == ModeKeys::EVAL) {
      for (auto& [name, value] : values_of(spec)) sums[name] += value * double(n);
    } else if (a.output_fn && a.output_every_n_steps > 0 && r.steps % a.output_every_n_steps == 0) {
      a.output_fn(spec.output_info);
    }
    r.samples += n;
    ++r.steps;
  }
  for (auto& [name, s] : sums) r.metrics[name] = s / double(std::max<int64_t>(r.samples, 1));
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (a.verbose && a.run_mode == ModeKeys::EVAL)
    std::cout << "[EVAL] " << log_line(r.steps, r.steps, double(r.samples) / std::max(r.seconds, 1e-9), r.metrics)
              << std::endl;
  return r;
}

}  // namespace

std::string latest_checkpoint(const std::string& dir) {
  std::ifstream in(dir + "/checkpoint");
  if (!in) return "";
  std::string line;
  std::getline(in, line);
  std::smatch m;
  if (!std::regex_search(line, m, std::regex(R"(model_checkpoint_path: \"([^\"]+)\")"))) return "";
  std::string path = dir + "/" + m[1].str();
  return fs::exists(path) ? path : "";
}

RunResult run(const RunArgs& a) {
  MOX_CHECK(a.input_fn && a.model_fn, "run", "input_fn and model_fn are required");
  MOX_CHECK(a.model != nullptr, "run", "model (the module whose parameters run trains and saves) is required");
  MOX_CHECK(a.batch_size > 0, "run", "batch_size must be positive, got ", a.batch_size);
  MOX_CHECK(!a.export_model, "run", "export_model is not supported: Mox has no model exporter yet");
  MOX_CHECK(a.run_mode != ModeKeys::PREDICT || a.output_fn, "run", "PREDICT mode needs an output_fn");
  if (a.run_mode == ModeKeys::TRAIN) {
    MOX_CHECK(a.optimizer_fn != nullptr, "run", "TRAIN mode needs an optimizer_fn");
    return train(a);
  }
  return infer(a);
}

}  // namespace mox
