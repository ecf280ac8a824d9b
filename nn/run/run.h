// mox::run: MoXing's driver. input_fn gives batches for a mode, model_fn turns a batch into a
// ModelSpec (losses, values to log, values to output, hooks), optimizer_fn makes the optimizer.
// run() trains, evaluates or predicts with them, logging in MoXing's line format, writing
// TensorBoard summaries and checkpoints under log_dir, and resuming from them.
//
//   mox::run({.input_fn = input_fn, .model_fn = model_fn,
//             .optimizer_fn = nn::get_optimizer_fn("sgd", 0.5), .model = net,
//             .run_mode = ModeKeys::TRAIN, .batch_size = 100, .log_dir = "train_dir",
//             .max_number_of_steps = 3000});
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/data/batcher.h"
#include "nn/loss_scale.h"
#include "nn/module.h"
#include "nn/optim/optimizer.h"

namespace mox {

enum class ModeKeys { TRAIN, EVAL, PREDICT };
const char* mode_name(ModeKeys mode);

using data::Batch;
using data::BatchSource;
// input_fn(mode, batch_size): the batches of that mode.
using InputFn = std::function<BatchSource(ModeKeys mode, int64_t batch_size)>;

class Hook;
class DataParallel;  // nn/run/data_parallel.h

// One loss and the parameters it trains: names starting with any of var_scopes (all
// parameters when empty), as MoXing's per-loss var_scopes.
struct LossSpec {
  Tensor loss;
  std::vector<std::string> var_scopes;
};

// Recorded for export; Mox's exporter is not written yet, so export_model fails clearly.
struct ExportSpec {
  std::map<std::string, Tensor> inputs_dict, outputs_dict;
  int version = 1;
};

struct ModelSpec {
  Tensor loss;                               // the usual single loss, or
  std::vector<LossSpec> losses;              // several, each with its var_scopes
  std::map<std::string, Tensor> log_info;    // scalars printed every log_every_n_steps
  std::map<std::string, Tensor> output_info; // handed to output_fn
  ExportSpec export_spec;
  std::vector<std::shared_ptr<Hook>> hooks;
};

using ModelFn = std::function<ModelSpec(const Batch& inputs, ModeKeys mode)>;
using OutputFn = std::function<void(const std::map<std::string, Tensor>& outputs)>;

struct RunArgs {
  InputFn input_fn;
  ModelFn model_fn;
  nn::OptimizerFn optimizer_fn;            // TRAIN only
  std::shared_ptr<nn::Module> model;       // the parameters trained, saved and restored
  OutputFn output_fn;
  ModeKeys run_mode = ModeKeys::TRAIN;
  std::optional<ModeKeys> inter_mode;      // the mode hooks like EarlyStoppingHook evaluate in
  int64_t batch_size = 32;
  std::string log_dir;                     // summaries and checkpoints; empty: none written
  // TRAIN: stop when the global step reaches it (so a resumed run ends where the first
  // would have); EVAL/PREDICT: steps of this run. 0: until the input ends.
  int64_t max_number_of_steps = 0;
  std::string checkpoint_path;             // a checkpoint file or a directory holding one
  std::vector<std::string> checkpoint_exclude_patterns;  // skipped when loading checkpoint_path
  int64_t log_every_n_steps = 10;
  int64_t output_every_n_steps = 1;
  int64_t save_summary_steps = 100;
  double save_model_secs = 0;              // wins over save_model_steps when both are set
  int64_t save_model_steps = 0;
  bool export_model = false;
  bool verbose = true;                     // print log lines to stdout
  // TRAIN: loss scaling for mixed precision (the manual's loss_scale; see nn/loss_scale.h).
  // Unless off (the default, a static 1), each step backpropagates the scaled loss, unscales
  // the gradients, and skips the optimizer step when they are not finite; the log line and the
  // summaries gain loss_scale and skipped_steps, and checkpoints keep the scaler's state.
  nn::LossScaler loss_scale;
  // TRAIN across the ranks of an mpirun job (nn/run/data_parallel.h); null: this process only.
  // batch_size is then per rank; rank 0 alone logs and writes log_dir.
  std::shared_ptr<DataParallel> data_parallel;
};

struct RunResult {
  int64_t steps = 0;        // steps run by this call
  int64_t global_step = 0;  // after the run
  int64_t samples = 0;
  double seconds = 0;
  // TRAIN: the last logged values; EVAL: log_info averaged over every sample.
  std::map<std::string, double> metrics;
  std::string checkpoint;   // the latest checkpoint written or loaded
  bool stopped_by_hook = false;
  double loss_scale = 1;      // TRAIN: the scale at the end
  int64_t skipped_steps = 0;  // TRAIN: steps skipped for inf/NaN gradients, over the whole training
};

RunResult run(const RunArgs& args);

// Hooks see each step's log values and may stop training.
struct StepContext {
  int64_t global_step;
  const std::map<std::string, double>& log_values;
};

class Hook {
 public:
  virtual ~Hook() = default;
  virtual void begin(const RunArgs& args) { (void)args; }
  virtual void after_step(const StepContext& ctx) { (void)ctx; }
  virtual bool should_stop() const { return false; }
  virtual void end() {}
};

// The checkpoint file named by the "checkpoint" index in dir, or "" when dir has none.
std::string latest_checkpoint(const std::string& dir);

}  // namespace mox
