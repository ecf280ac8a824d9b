// bench_train_small: whole training runs on Fashion-MNIST, Mox against PyTorch (Debian's
// python3-torch, same threads, run by an embedded script in the same run), with the images
// already in memory as f32 tensors on both sides (file loading is timed apart):
//   cnn      one epoch of the Keras MNIST CNN of seed 000 (zoo "mnist_cnn"), batch 64, Adadelta
//            at learning rate 1.0 (the MoXing port's get_optimizer_fn('adadelta', 1.0));
//   softmax  the getting-started softmax regression of the manual (zoo "softmax_regression",
//            zero-initialized), batch 100, SGD at 0.5, 5 epochs = 3000 steps.
// Mox trains through mox::run in TRAIN mode, as `mox train` does (no log_dir: nothing written).
// Each timed run starts from a freshly initialized model and ends with its test-set accuracy.
// Reports seconds per run (median over --reps), images/s, the ratio PyTorch time / Mox time
// (> 1: Mox faster) and both accuracies.
#include <algorithm>
#include <chrono>
#include <iostream>

#include "bench/common.h"
#include "io/data/mnist.h"
#include "nn/run/run.h"
#include "zoo/models.h"

using namespace mox;
using bench::json;

namespace {

using Clock = std::chrono::steady_clock;

struct Job {
  std::string name, model, optimizer;
  double learning_rate;
  int64_t batch, epochs;
  int64_t steps = 0;  // per timed run: epochs over the training set, capped by --steps
  json to_json() const {
    return {{"name", name}, {"model", model}, {"optimizer", optimizer}, {"learning_rate", learning_rate},
            {"batch", batch}, {"epochs", epochs}, {"steps", steps}};
  }
};

// Adadelta's rho 0.95 and epsilon 1e-8 are TensorFlow's defaults (Mox's); the peer passes them.
const std::vector<Job> kJobs = {
    {"cnn", "mnist_cnn", "adadelta", 1.0, 64, 1},
    {"softmax", "softmax_regression", "sgd", 0.5, 100, 5},
};

struct RunStats {
  double seconds, accuracy;
};

double test_accuracy(nn::Module& model, const data::MnistSplit& test) {
  model.eval();
  NoGradGuard no_grad;
  double correct = 0;
  const int64_t n = test.images.size(0), chunk = 1000;
  for (int64_t i = 0; i < n; i += chunk) {
    int64_t m = std::min(chunk, n - i);
    Tensor logits = model(test.images.narrow(0, i, m));
    correct += sum(in_top_k(logits, test.labels.narrow(0, i, m), 1).to(DType::f32)).item();
  }
  return correct / double(n);
}

// One training run of `steps` steps from a model initialized with `seed`, through mox::run.
RunStats train_mox(const Job& job, const data::MnistSplit& train, const data::MnistSplit& test, uint64_t seed,
                   int64_t steps) {
  manual_seed(seed);
  std::shared_ptr<nn::Sequential> model = zoo::get_model(job.model, 10);
  const int64_t per_epoch = (train.images.size(0) + job.batch - 1) / job.batch;
  const int64_t epochs = (steps + per_epoch - 1) / per_epoch;
  RunArgs a;
  a.input_fn = [&](ModeKeys, int64_t batch_size) {
    return data::batches({train.images, train.labels},
                         {.batch_size = batch_size, .shuffle = true, .seed = seed, .num_epochs = epochs});
  };
  a.model_fn = [&](const Batch& b, ModeKeys) {
    ModelSpec spec;
    spec.loss = cross_entropy((*model)(b[0]), b[1]);
    return spec;
  };
  a.optimizer_fn = nn::get_optimizer_fn(job.optimizer, job.learning_rate);
  a.model = model;
  a.batch_size = job.batch;
  a.max_number_of_steps = steps;
  a.log_every_n_steps = 0;
  a.save_summary_steps = 0;
  a.verbose = false;
  auto t0 = Clock::now();
  RunResult r = run(a);
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  MOX_CHECK(r.steps == steps, "bench_train_small", job.name, ": mox::run ran ", r.steps, " steps, ", steps,
            " expected");
  return {seconds, test_accuracy(*model, test)};
}

// The PyTorch side: the same models (Keras's glorot-uniform weights and zero biases; zeros for
// softmax regression), optimizers, batches and step counts; shuffled index batches gathered
// from in-memory tensors, as data::batches does. Each step reads the loss (loss.item()) as
// mox::run does for its log values.
const char* kTorchBody = R"PY(
import gzip
import numpy as np
import torch.nn as nn
import torch.nn.functional as F

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return torch.from_numpy(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).copy()).reshape(dims)

def load(split):
    d = ARGS["data_dir"]
    x = read_idx(f"{d}/{split}-images-idx3-ubyte.gz")
    return x.reshape(-1, 1, 28, 28).float().div_(255), read_idx(f"{d}/{split}-labels-idx1-ubyte.gz").long()

t0 = time.perf_counter()
X, Y = load("train")
XT, YT = load("t10k")
RESULT["load_seconds"] = time.perf_counter() - t0

def make_model(name):
    if name == "mnist_cnn":
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(128, 10))
        for layer in m:
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)
        return m
    m = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    nn.init.zeros_(m[1].weight)
    nn.init.zeros_(m[1].bias)
    return m

def make_optimizer(job, params):
    if job["optimizer"] == "adadelta":
        return torch.optim.Adadelta(params, lr=job["learning_rate"], rho=0.95, eps=1e-8)
    return torch.optim.SGD(params, lr=job["learning_rate"])

def train(job, seed, steps):
    torch.manual_seed(seed)
    model = make_model(job["model"])
    model.train()
    g = torch.Generator().manual_seed(seed)
    bs, n, done = job["batch"], X.shape[0], 0
    t0 = time.perf_counter()
    opt = make_optimizer(job, model.parameters())
    while done < steps:
        perm = torch.randperm(n, generator=g)
        for s in range(0, n, bs):
            if done == steps:
                break
            idx = perm[s:s + bs]
            loss = F.cross_entropy(model(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()
            done += 1
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        correct = sum((model(XT[i:i + 1000]).argmax(1) == YT[i:i + 1000]).sum().item()
                      for i in range(0, XT.shape[0], 1000))
    return seconds, correct / XT.shape[0]

for job in ARGS["jobs"]:
    if ARGS["warmup"] > 0:
        train(job, 1000, ARGS["warmup"])
    times, accs = [], []
    for rep in range(ARGS["first_run"], ARGS["first_run"] + ARGS["reps"]):
        t, a = train(job, rep, job["steps"])
        print(f"{job['name']}: torch run {rep + 1}: {t:.2f} s, accuracy {a:.4f}", file=sys.stderr, flush=True)
        times.append(t)
        accs.append(a)
    RESULT[job["name"]] = {"seconds": statistics.median(times), "accuracy": statistics.median(accs),
                           "seconds_per_run": times, "accuracies": accs}
)PY";

// Mox's and PyTorch's runs of a job alternate (one peer process per run, its data loaded before
// its timing starts), so a slow spell of this shared machine falls on both sides alike. Returns
// {"mox": stats} and, unless --no-peer or the peer failed, {"torch": stats}; stats hold the
// median seconds and accuracy and every run's.
json time_job(const Job& job, const data::MnistSplit& train, const data::MnistSplit& test, const bench::Options& o,
              const std::string& data_dir, json& peer_info) {
  if (o.warmup > 0) train_mox(job, train, test, 1000, o.warmup);
  std::vector<double> times, accs, peer_times, peer_accs;
  bool peer_ok = !o.no_peer;
  for (int rep = 0; rep < o.reps; ++rep) {
    RunStats s = train_mox(job, train, test, uint64_t(rep), job.steps);
    std::cerr << job.name << ": mox run " << rep + 1 << "/" << o.reps << ": " << bench::fmt(s.seconds) << " s, accuracy "
              << bench::fmt(s.accuracy, 4) << std::endl;
    times.push_back(s.seconds);
    accs.push_back(s.accuracy);
    if (!peer_ok) continue;
    bench::Options one = o;
    one.reps = 1;
    one.warmup = rep == 0 ? o.warmup : 0;
    std::optional<json> peer = bench::run_torch_peer(
        kTorchBody, {{"data_dir", data_dir}, {"jobs", json::array({job.to_json()})}, {"first_run", rep}}, one);
    if (!peer || !peer->contains(job.name)) {
      peer_ok = false;
      continue;
    }
    peer_info = *peer;
    peer_times.push_back((*peer)[job.name]["seconds"].get<double>());
    peer_accs.push_back((*peer)[job.name]["accuracy"].get<double>());
  }
  auto stats = [](const std::vector<double>& t, const std::vector<double>& a) {
    return json{{"seconds", bench::median(t)}, {"accuracy", bench::median(a)}, {"seconds_per_run", t},
                {"accuracies", a}};
  };
  json r = {{"mox", stats(times, accs)}};
  if (peer_ok) r["torch"] = stats(peer_times, peer_accs);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_train_small: Fashion-MNIST training runs (the seed CNN for one epoch, softmax regression "
               "for 3000 steps), Mox's mox::run vs PyTorch: seconds, images/s, ratio, test accuracy"};
  bench::Options o;
  o.warmup = 0;
  o.reps = 3;
  bench::add_common_options(app, o, true);
  app.get_option("--warmup")->description("untimed training steps on a throwaway model before each job's timed runs");
  app.get_option("--reps")->description("timed runs per job, each from a fresh model; the median is reported");
  std::vector<std::string> names;
  for (const Job& j : kJobs) names.push_back(j.name);
  std::vector<std::string> selected = names;
  std::string data_dir = data::kFashionMnistDir;
  int64_t max_steps = 0;
  app.add_option("--jobs", selected, "jobs to run")->delimiter(',')->check(CLI::IsMember(names))->capture_default_str();
  app.add_option("--data_dir", data_dir,
                 "directory with Fashion-MNIST's *-ubyte.gz files (the peer reads local paths only)")
      ->capture_default_str();
  app.add_option("--steps", max_steps, "cap on the steps of each timed run (0: the job's full epochs)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    bench::apply_threads(o);
    std::cerr << "loading " << data_dir << std::endl;
    auto t0 = Clock::now();
    data::MnistSplit train = data::load_mnist(data_dir, "train");
    data::MnistSplit test = data::load_mnist(data_dir, "t10k");
    double load_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

    std::vector<Job> jobs;
    json job_json = json::array();
    for (Job j : kJobs) {
      if (std::find(selected.begin(), selected.end(), j.name) == selected.end()) continue;
      j.steps = j.epochs * ((train.images.size(0) + j.batch - 1) / j.batch);
      if (max_steps > 0) j.steps = std::min(j.steps, max_steps);
      jobs.push_back(j);
      job_json.push_back(j.to_json());
    }

    json cond = bench::conditions(
        "bench_train_small", o,
        {{"dtype", "f32"},
         {"data", data_dir + ": " + std::to_string(train.images.size(0)) + " training, " +
                      std::to_string(test.images.size(0)) + " test images, in memory before timing"},
         {"mox_load_seconds", load_seconds},
         {"mox_path", "mox::run TRAIN (as `mox train`), zoo::get_model, data::batches shuffled, no log_dir"},
         {"timing", "median over reps of wall time of a whole run (optimizer creation, shuffling, batching, "
                    "forward, backward, update); each run starts from a fresh model, seed = run index"},
         {"warmup", std::to_string(o.warmup) + " untimed steps per job before its timed runs"},
         {"ratio", "PyTorch seconds / Mox seconds (> 1: Mox faster)"},
         {"peer", o.no_peer ? "none" : "PyTorch torch.nn + torch.optim via " + o.python +
                                               ", its runs alternating with Mox's (one process per run)"},
         {"jobs", job_json}});
    bench::print_conditions(cond);

    json results = json::array(), peer_info;
    bool peer_failed = false;
    for (const Job& j : jobs) {
      std::cerr << j.name << ": " << j.steps << " steps of batch " << j.batch << " per run" << std::endl;
      json r = time_job(j, train, test, o, data_dir, peer_info);
      peer_failed |= !o.no_peer && !r.contains("torch");
      r["job"] = j.name, r["steps"] = j.steps, r["batch"] = j.batch;
      results.push_back(r);
    }
    if (peer_failed) cond["peer_error"] = "the PyTorch peer failed (message on stderr); no ratio";
    if (!peer_info.is_null()) {
      cond["torch_version"] = peer_info["torch_version"];
      cond["torch_threads"] = peer_info["torch_threads"];
      cond["torch_load_seconds"] = peer_info["load_seconds"];
      std::cout << "  torch           " << peer_info["torch_version"].get<std::string>() << ", "
                << peer_info["torch_threads"] << " threads\n";
    }

    std::vector<int> w = {8, 12, 9, 9, 10, 10, 7, 8, 8};
    bench::print_row({"job", "steps x bs", "mox s", "torch s", "mox img/s", "torch img/s", "ratio", "mox acc",
                      "torch acc"},
                     w);
    for (json& r : results) {
      const double images = double(r["steps"].get<int64_t>() * r["batch"].get<int64_t>());
      json& m = r["mox"];
      m["images_per_s"] = images / m["seconds"].get<double>();
      std::optional<double> torch_speed;
      std::string t_s = "-", t_ips = "-", t_acc = "-";
      const std::string name = r["job"];
      if (r.contains("torch")) {
        json& t = r["torch"];
        t["images_per_s"] = images / t["seconds"].get<double>();
        torch_speed = t["images_per_s"].get<double>();
        t_s = bench::fmt(t["seconds"].get<double>());
        t_ips = bench::fmt(*torch_speed, 0);
        t_acc = bench::fmt(t["accuracy"].get<double>(), 4);
      }
      // images/s are inverse times over the same images, so this is PyTorch time / Mox time.
      r["ratio"] = bench::speed_ratio(m["images_per_s"].get<double>(), torch_speed);
      bench::print_row({name, std::to_string(r["steps"].get<int64_t>()) + " x " + std::to_string(r["batch"].get<int64_t>()),
                        bench::fmt(m["seconds"].get<double>()), t_s, bench::fmt(m["images_per_s"].get<double>(), 0),
                        t_ips, bench::ratio_str(r["ratio"]), bench::fmt(m["accuracy"].get<double>(), 4), t_acc},
                       w);
    }
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_train_small: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
