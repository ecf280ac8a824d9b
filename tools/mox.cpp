// mox: the command line. `mox train` with no flags is the main job: the Keras MNIST CNN
// trained on Fashion-MNIST (Debian's dataset-fashion-mnist) with mox::run, checkpoints in
// --train_url, then evaluated on the 10k test images. `mox eval` evaluates the latest
// checkpoint; `mox predict` writes the test set's predictions to a CSV file.
#include <omp.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/allocator.h"
#include "io/data/mnist.h"
#include "nn/optim/lr_schedule.h"
#include "nn/run/data_parallel.h"
#include "nn/run/flags.h"
#include "nn/run/run.h"
#include "nn/var_scope.h"
#include "tools/mox_file.h"
#include "zoo/models.h"
#include "zoo/zoo.h"

using namespace mox;

namespace {

const char* kUsage =
    "usage: mox <command> [--flag=value ...]\n\n"
    "commands:\n"
    "  train     train a model (the main job: the MNIST CNN on Fashion-MNIST), then evaluate it\n"
    "  eval      evaluate the latest checkpoint in --train_url on the test set\n"
    "  predict   write the test set's predicted labels to --output (CSV)\n"
    "  file      ls, cp, rm, cat, stat, mkdir on local paths and s3:// URLs\n"
    "  models    list the zoo's networks: parameters, default image size, supported\n\n"
    "`mox <command> --help` lists the flags.\n";

void define_flags(flags::FlagSet& f) {
  f.set_flag("data_url", data::kFashionMnistDir);
  f.set_flag("train_url", "runs/fashion_mnist_cnn");
  f.define_string("model", "mnist_cnn", "model from the zoo: mnist_cnn, softmax_regression");
  f.define_integer("epochs", 5, "passes over the training set (sets max_number_of_steps when that is 0)");
  f.define_string("optimizer", "adam", "adadelta, adagrad, adam, ftrl, momentum, rmsprop, sgd");
  f.define_float("learning_rate", 0.001, "constant learning rate; given alone it replaces --lr_strategy");
  f.define_string("lr_strategy", "3:0.001,5:0.001->0.0001",
                  "piecewise_lr by epoch: END:VALUE stages, a->b linear, a=>b exponential");
  f.define_float("momentum", 0.9, "momentum for the momentum and rmsprop optimizers");
  f.define_float("weight_decay", 0, "L2 weight decay added to the gradients");
  f.define_integer("seed", 0, "random seed (initialization, dropout, shuffling)");
  f.define_integer("threads", 0, "CPU threads (0: all cores)");
  f.define_string("output", "", "predict: CSV file to write (default <train_url>/predictions.csv)");
  f.define_bool("json", false, "print one JSON object with the results last");
  define_data_parallel_flags(f);
}

// Flags that parse but contradict each other or this machine.
void check_flags(const flags::FlagSet& f) {
  auto positive = [&](const char* name) {
    MOX_CHECK(f.get_integer(name) > 0, "flags", "--", name, " must be positive, got ", f.get_integer(name));
  };
  positive("batch_size");
  positive("epochs");
  flags::compute_dtype(f.get_string("dtype"));
  nn::LossScaler::from_flag(f.get_string("loss_scale"));
  MOX_CHECK(f.get_float("learning_rate") > 0, "flags", "--learning_rate must be positive");
  MOX_CHECK(f.get_integer("max_number_of_steps") >= 0, "flags", "--max_number_of_steps must not be negative");
  long long gpus = f.get_integer("num_gpus");
  int found = device_count(DeviceType::CUDA);
  MOX_CHECK(gpus >= 0 && gpus <= found, "flags", "--num_gpus=", gpus, " but ", found,
            " CUDA devices are available");
  MOX_CHECK(gpus <= 1, "flags", "--num_gpus=", gpus, ": multi-GPU training runs through mpirun, one GPU per rank");
}

// --learning_rate given without --lr_strategy (or an empty strategy) means a constant rate.
bool uses_constant_lr(const flags::FlagSet& f) {
  return f.get_string("lr_strategy").empty() || (f.is_set("learning_rate") && !f.is_set("lr_strategy"));
}

struct Job {
  data::MnistSplit train, test;
  std::shared_ptr<nn::Sequential> model;
  RunArgs args;
};

// The job lives on the heap: input_fn and model_fn point back into it.
std::unique_ptr<Job> prepare(const flags::FlagSet& f, ModeKeys mode) {
  auto owner = std::make_unique<Job>();
  Job& job = *owner;
  std::string dir = f.get_string("data_url");
  if (mode == ModeKeys::TRAIN) job.train = data::load_mnist(dir, "train");
  job.test = data::load_mnist(dir, "t10k");
  // Under mpirun (TRAIN): run() starts every rank from rank 0's weights; each rank keeps its own
  // random stream (dropout) from seed + rank. --batch_size is per rank.
  std::shared_ptr<DataParallel> dp = mode == ModeKeys::TRAIN ? data_parallel_from_flags(f) : nullptr;
  const int64_t ranks = dp ? dp->size() : 1;
  manual_seed(uint64_t(f.get_integer("seed")) + uint64_t(dp ? dp->rank() : 0));
  job.model = zoo::get_model(f.get_string("model"), 10);
  if (f.get_integer("num_gpus") == 1) job.model->to(Device::cuda(0));
  Device device = f.get_integer("num_gpus") == 1 ? Device::cuda(0) : Device::cpu();

  int64_t bs = f.get_integer("batch_size");
  const int64_t global_bs = bs * ranks;  // samples per step over all ranks
  uint64_t seed = uint64_t(f.get_integer("seed"));
  int64_t epochs = f.get_integer("epochs");
  Job* j = &job;
  RunArgs& a = job.args;
  a.input_fn = [j, seed, epochs](ModeKeys m, int64_t batch_size) {
    if (m == ModeKeys::TRAIN)
      return data::batches({j->train.images, j->train.labels},
                           {.batch_size = batch_size, .shuffle = true, .seed = seed, .num_epochs = epochs});
    return data::batches({j->test.images, j->test.labels}, {.batch_size = batch_size, .shuffle = false, .num_epochs = 1});
  };
  // --dtype f16 / bf16: the images and every activation in that dtype, the f32 parameters read
  // through it (master weights, nn::VarScope); the loss is taken in f32.
  DType dtype = flags::compute_dtype(f.get_string("dtype"));
  a.model_fn = [j, device, dtype](const Batch& b, ModeKeys) {
    Tensor images = b[0].to(device).to(dtype), logits;
    if (dtype == DType::f32) {
      logits = (*j->model)(images);
    } else {
      nn::VarScope scope({.force_dtype = DType::f32});
      logits = (*j->model)(images);
    }
    Tensor labels = b[1].to(device);
    ModelSpec spec;
    spec.loss = cross_entropy(logits.to(DType::f32), labels);
    Tensor accuracy = mean(in_top_k(logits, labels, 1).to(DType::f32));
    spec.log_info = {{"loss", spec.loss}, {"accuracy", accuracy}};
    spec.output_info = {{"label", argmax(logits, 1)}, {"truth", labels}};
    return spec;
  };
  nn::OptimizerArgs opt_args;
  if (f.get_string("optimizer") == "momentum" || f.get_string("optimizer") == "rmsprop")
    opt_args["momentum"] = f.get_float("momentum");
  if (f.get_float("weight_decay") > 0) opt_args["weight_decay"] = f.get_float("weight_decay");
  nn::LearningRate lr = nn::constant_lr(f.get_float("learning_rate"));
  if (!uses_constant_lr(f))
    lr = nn::piecewise_lr(f.get_string("lr_strategy"), mode == ModeKeys::TRAIN ? job.train.images.size(0) : 1, global_bs);
  a.optimizer_fn = nn::get_optimizer_fn(f.get_string("optimizer"), lr, opt_args);
  a.model = job.model;
  a.data_parallel = dp;
  a.loss_scale = nn::LossScaler::from_flag(f.get_string("loss_scale"));
  a.run_mode = mode;
  a.batch_size = bs;
  a.log_dir = f.get_string("train_url");
  a.checkpoint_path = f.get_string("checkpoint_url");
  a.log_every_n_steps = f.get_integer("log_every_n_steps");
  a.save_summary_steps = f.get_integer("save_summary_steps");
  a.save_model_steps = f.get_integer("save_model_steps");
  int64_t max_steps = f.get_integer("max_number_of_steps");
  if (mode == ModeKeys::TRAIN && max_steps == 0)
    max_steps = epochs * ((job.train.images.size(0) + global_bs - 1) / global_bs);
  a.max_number_of_steps = mode == ModeKeys::TRAIN ? max_steps : 0;
  return owner;
}

int train_or_eval(const flags::FlagSet& f, ModeKeys mode) {
  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<Job> owner = prepare(f, mode);
  Job& job = *owner;
  int64_t bs = f.get_integer("batch_size");
  RunResult trained;
  const std::shared_ptr<DataParallel>& dp = job.args.data_parallel;
  const bool chief = !dp || dp->chief();  // rank 0 prints and evaluates
  if (mode == ModeKeys::TRAIN) {
    if (dp && chief)
      std::cout << "train: data parallel over " << dp->size() << " ranks (" << dp->options().variable_update << ", "
                << dp->comm().backend() << "), global batch " << bs * dp->size() << std::endl;
    if (chief) std::cout << "train: " << f.get_string("model") << " on " << job.train.images.size(0) << " images from "
              << f.get_string("data_url") << ", " << f.get_integer("epochs") << " epochs of batch " << bs << ", "
              << f.get_string("optimizer") << " "
              << (uses_constant_lr(f) ? std::to_string(f.get_float("learning_rate")) : "lr " + f.get_string("lr_strategy"))
              << ", " << omp_get_max_threads()
              << " threads, " << f.get_string("dtype") << ", loss scale " << job.args.loss_scale.str()
              << ", log_dir " << job.args.log_dir << std::endl;
    trained = run(job.args);
    if (chief) std::cout << "train: " << trained.steps << " steps this run, global step " << trained.global_step << ", "
              << trained.seconds << " s, checkpoint " << trained.checkpoint << std::endl;
  }
  if (!chief) return 0;
  RunArgs eval = job.args;
  eval.run_mode = ModeKeys::EVAL;
  eval.max_number_of_steps = 0;
  RunResult evaluated = run(eval);
  double acc = evaluated.metrics["accuracy"];
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "test accuracy: " << acc << " on " << evaluated.samples << " images (" << seconds << " s in all)" << std::endl;
  if (f.get_bool("json")) {
    double steps_per_epoch = std::ceil(double(job.train.images.defined() ? job.train.images.size(0) : 0) / double(bs * (dp ? dp->size() : 1)));
    std::cout << "{\"accuracy\": " << acc << ", \"loss\": " << evaluated.metrics["loss"]
              << ", \"epochs\": " << (steps_per_epoch > 0 ? double(trained.global_step) / steps_per_epoch : 0)
              << ", \"steps\": " << trained.global_step << ", \"train_seconds\": " << trained.seconds
              << ", \"seconds\": " << seconds << ", \"peak_cpu_bytes\": " << memory_stats(Device::cpu()).peak_bytes
              << ", \"dtype\": \"" << f.get_string("dtype") << "\", \"loss_scale\": " << trained.loss_scale
              << ", \"skipped_steps\": " << trained.skipped_steps
              << "}" << std::endl;
  }
  return 0;
}

int predict(const flags::FlagSet& f) {
  std::unique_ptr<Job> owner = prepare(f, ModeKeys::PREDICT);
  Job& job = *owner;
  std::string path = f.get_string("output").empty() ? job.args.log_dir + "/predictions.csv" : f.get_string("output");
  std::ofstream out(path);
  MOX_CHECK_T(IOError, out.good(), "predict", "cannot write ", path);
  out << "index,label,truth\n";
  int64_t row = 0;
  job.args.output_fn = [&](const std::map<std::string, Tensor>& o) {
    std::vector<double> label = o.at("label").tolist(), truth = o.at("truth").tolist();
    for (size_t i = 0; i < label.size(); ++i) out << row++ << "," << int64_t(label[i]) << "," << int64_t(truth[i]) << "\n";
  };
  RunResult r = run(job.args);
  std::cout << "predict: wrote " << row << " predictions to " << path << " (" << r.seconds << " s)" << std::endl;
  return 0;
}

// `mox models`: every NetworkKeys name (or those in --names) with its parameter count for
// --num_classes (each supported network is built to count), default image size and whether
// Mox implements it.
int list_models(const std::vector<std::string>& args) {
  flags::FlagSet f;
  f.define_integer("num_classes", 1000, "classes of the logits layer the parameter counts are for");
  f.define_string("names", "", "comma-separated networks to list (default: every NetworkKeys name)");
  f.define_bool("json", false, "print one JSON object instead of the table");
  if (!f.parse(args)) {
    std::cout << f.help("mox models");
    return 0;
  }
  const int64_t classes = f.get_integer("num_classes");
  MOX_CHECK(classes > 0, "flags", "--num_classes must be positive, got ", classes);
  std::vector<std::string> names;
  std::istringstream list(f.get_string("names"));
  for (std::string n; std::getline(list, n, ',');) names.push_back(n);
  if (names.empty()) names = zoo::network_keys();
  nlohmann::json models = nlohmann::json::array();
  for (const std::string& name : names) {
    zoo::ModelMeta meta = zoo::get_model_meta(name);
    nlohmann::json m = {{"name", name},
                        {"parameters", nullptr},
                        {"default_image_size", meta.default_image_size},
                        {"default_labels_offset", meta.default_labels_offset},
                        {"preprocessing", meta.preprocessing},
                        {"supported", meta.supported}};
    if (meta.supported) m["parameters"] = zoo::get_model_fn(name, {.num_classes = classes}).network->num_parameters();
    models.push_back(m);
  }
  if (f.get_bool("json")) {
    std::cout << nlohmann::json{{"num_classes", classes}, {"models", models}}.dump() << std::endl;
    return 0;
  }
  std::printf("%-22s %12s %6s  %s\n", "name", "parameters", "size", "supported");
  for (const nlohmann::json& m : models)
    std::printf("%-22s %12s %6lld  %s\n", m["name"].get<std::string>().c_str(),
                m["parameters"].is_null() ? "-" : std::to_string(m["parameters"].get<int64_t>()).c_str(),
                (long long)m["default_image_size"].get<int64_t>(), m["supported"].get<bool>() ? "yes" : "no");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  try {
    flags::FlagSet& f = flags::global();
    if (cmd == "models") return list_models(std::vector<std::string>(argv + 2, argv + argc));
    if (cmd == "file") return tools::file_main(std::vector<std::string>(argv + 2, argv + argc));
    define_flags(f);
    if (cmd != "train" && cmd != "eval" && cmd != "predict") {
      std::cerr << "mox: unknown command '" << cmd << "'\n" << kUsage;
      return 2;
    }
    if (!f.parse(std::vector<std::string>(argv + 2, argv + argc))) {
      std::cout << f.help("mox " + cmd);
      return 0;
    }
    check_flags(f);
    if (f.get_integer("threads") > 0) omp_set_num_threads(int(f.get_integer("threads")));
    if (cmd == "predict") return predict(f);
    return train_or_eval(f, cmd == "train" ? ModeKeys::TRAIN : ModeKeys::EVAL);
  } catch (const Error& e) {
    abort_job_on_error("mox " + cmd, e.what());  // under mpirun: stops the other ranks too
    std::cerr << "mox " << cmd << ": " << e.what() << std::endl;
    return 1;
  }
}
