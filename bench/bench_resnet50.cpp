// bench_resnet50: ResNet-50 (the zoo's resnet_v1_50, torchvision's ResNet v1.5) training step
// and inference, Mox against PyTorch (torchvision.models.resnet50 through Debian's python3, same
// batch, image size and threads, timed by an embedded script in the same run). Reports img/s
// (batch / median step time) and the ratio Mox/PyTorch (> 1: Mox faster), and the peak memory
// of the training step on both sides (< 1: Mox uses less).
//
// Training step: zero grads (to None), forward in train mode (batch statistics), softmax
// cross-entropy on random labels, backward, SGD with momentum 0.9 at lr 0.01, no weight decay.
// Inference: eval-mode forward without autograd. f32, NCHW, random input.
//
// Peak memory is the growth of the process's peak resident size (VmHWM) over its resident size
// just before the first training step, the peak first reset through /proc/self/clear_refs so
// model building does not count. Mox's training runs in a child process (this program again,
// with a hidden flag), so inference and the parent's state stay out of it; PyTorch's peer is
// a process of its own and trains first.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "bench/common.h"
#include "bench/resnet50_peer.h"
#include "core/allocator.h"
#include "nn/optim/optimizer.h"
#include "zoo/zoo.h"

using namespace mox;
using bench::json;

namespace {

constexpr double kLr = 0.01, kMomentum = 0.9;
constexpr double kMiB = 1024.0 * 1024.0;

struct Config {
  int64_t batch = 32, image_size = 224, num_classes = 1000;
  std::string device = "cpu";
  int gpus = 1;
  std::vector<std::string> modes = {"train", "infer"};
  bool has(const std::string& mode) const { return std::find(modes.begin(), modes.end(), mode) != modes.end(); }
  Device dev() const { return device == "cuda" ? Device::cuda(0) : Device::cpu(); }
};

// ---- resident memory of this process, from /proc/self/status (kB figures)

int64_t status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1));
  return -1;
}

// Resets the peak resident size (VmHWM) to the current one; false where the kernel refuses.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return bool(out);
}

// ---- the Mox side

// fn wrapped so that each call reports its time on stderr (a step takes seconds).
std::function<void()> with_progress(const std::string& name, const std::function<void()>& fn, int total) {
  auto count = std::make_shared<int>(0);
  return [=] {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cerr << "mox " << name << " step " << ++*count << "/" << total << ": " << bench::fmt(s) << " s" << std::endl;
  };
}

zoo::ModelFunction build_model(const Config& c, ModeKeys mode) {
  manual_seed(0);
  zoo::NetOptions no;
  no.run_mode = mode;
  no.num_classes = c.num_classes;
  zoo::ModelFunction fn = zoo::get_model_fn("resnet_v1_50", no);
  fn.network->to(c.dev());
  return fn;
}

// The training measurement; run in the child process. Model, optimizer and data are built
// before the peak is reset.
json mox_train(const Config& c, const bench::Options& o) {
  zoo::ModelFunction model = build_model(c, ModeKeys::TRAIN);
  auto opt = nn::get_optimizer_fn("momentum", kLr, {{"momentum", kMomentum}})(model.network->parameters());
  Tensor x = randn({c.batch, 3, c.image_size, c.image_size}, opts(DType::f32, c.dev()));
  Tensor y = randint(0, c.num_classes, {c.batch}, opts(DType::i64, c.dev()));
  std::vector<double> losses;
  auto step = [&] {
    opt->zero_grad();
    Tensor loss = cross_entropy(model(x).logits, y);
    loss.backward();
    opt->step();
    losses.push_back(loss.item());  // also waits for the device
  };
  bool peak_reset = reset_peak_rss();
  int64_t rss0 = status_kib("VmRSS");
  MemoryStats before = memory_stats(c.dev());
  reset_peak_memory(c.dev());
  double t = bench::median_seconds(with_progress("train", step, o.warmup + o.reps), o.warmup, o.reps);
  int64_t hwm = status_kib("VmHWM");
  return {{"median_s", t},
          {"img_per_s", double(c.batch) / t},
          {"loss_first", losses.front()},
          {"loss_last", losses.back()},
          {"parameters", model.network->num_parameters()},
          {"rss_before_mib", double(rss0) / 1024},
          {"peak_rss_growth_mib", double(hwm - rss0) / 1024},
          {"peak_reset", peak_reset},
          {"allocator_before_mib", double(before.current_bytes) / kMiB},
          {"allocator_peak_mib", double(memory_stats(c.dev()).peak_bytes) / kMiB}};
}

json mox_infer(const Config& c, const bench::Options& o) {
  zoo::ModelFunction model = build_model(c, ModeKeys::EVAL);
  Tensor x = randn({c.batch, 3, c.image_size, c.image_size}, opts(DType::f32, c.dev()));
  auto infer = [&] {
    NoGradGuard no_grad;
    sum(model(x).logits).item();  // item() waits for the device
  };
  double t = bench::median_seconds(with_progress("infer", infer, o.warmup + o.reps), o.warmup, o.reps);
  return {{"median_s", t}, {"img_per_s", double(c.batch) / t}};
}

// Runs this program again with the hidden --train-child flag and returns the JSON object the
// child prints last; its progress on stderr passes through.
json run_train_child(const Config& c, const bench::Options& o) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  MOX_CHECK(n > 0, "training child", "cannot find this program through /proc/self/exe");
  exe[n] = '\0';
  std::ostringstream cmd;
  cmd << "'" << exe << "' --train-child --device " << c.device << " --gpus " << c.gpus << " --batch " << c.batch
      << " --image_size " << c.image_size << " --num_classes " << c.num_classes << " --threads " << o.threads
      << " --warmup " << o.warmup << " --reps " << o.reps;
  std::string out;
  FILE* p = popen(cmd.str().c_str(), "r");
  MOX_CHECK(p != nullptr, "training child", "cannot start ", cmd.str());
  char buf[4096];
  for (size_t k; (k = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, k);
  int status = pclose(p);
  MOX_CHECK(status == 0, "training child", "failed (status ", status, "): ", cmd.str());
  while (!out.empty() && out.back() == '\n') out.pop_back();
  size_t nl = out.find_last_of('\n');
  json r = json::parse(nl == std::string::npos ? out : out.substr(nl + 1), nullptr, false);
  MOX_CHECK(r.is_object(), "training child", "unreadable output: ", out);
  return r;
}

// ---- checks and reporting

// --device cuda needs a CUDA build and enough GPUs; --gpus is for the GPU form only.
void check_device(const Config& c) {
  if (c.device == "cpu") {
    MOX_CHECK(c.gpus == 1, "--gpus", "GPU counts apply to --device cuda; on cpu it must be 1, got ", c.gpus);
    return;
  }
#ifndef MOX_WITH_CUDA
  MOX_CHECK(false, "--device cuda", "this Mox was built without CUDA (configure with -DMOX_CUDA=ON)");
#endif
  int count = device_count(DeviceType::CUDA);
  MOX_CHECK(count > 0, "--device cuda", "no GPU is present");
  MOX_CHECK(c.gpus <= count, "--gpus", c.gpus, " asked for, only ", count, " GPU(s) present");
  MOX_CHECK(c.gpus == 1, "--gpus", c.gpus,
            " asked for: data-parallel training over several GPUs is not measured by this program; use --gpus 1");
}

// Both sides' losses must be finite, and Mox's first loss near ln(num_classes): an untrained
// network's prediction is nearly uniform, though random init leaves logits of some spread, so
// within 25% (torchvision's ResNet-50 starts near 7.1 at 1000 classes). Returns the check's
// record; false "ok" fails the run.
json check_losses(const Config& c, const json& mox, const std::optional<json>& peer) {
  double expected = std::log(double(c.num_classes));
  double first = mox["loss_first"];
  bool finite = std::isfinite(first) && std::isfinite(mox["loss_last"].get<double>());
  if (peer && peer->contains("train"))
    finite = finite && std::isfinite((*peer)["train"]["loss_first"].get<double>()) &&
             std::isfinite((*peer)["train"]["loss_last"].get<double>());
  bool near = std::abs(first - expected) < 0.25 * expected;
  return {{"expected_first", expected}, {"mox_first", first}, {"finite", finite}, {"near_expected", near},
          {"ok", finite && near}};
}

std::optional<double> peer_value(const std::optional<json>& peer, const std::string& mode, const std::string& key) {
  if (!peer || !peer->contains(mode)) return std::nullopt;
  return (*peer)[mode][key].get<double>();
}

void print_table(json& results, const std::optional<json>& peer) {
  std::vector<int> w = {30, 12, 14, 12};
  bench::print_row({"mode", "Mox img/s", "PyTorch img/s", "Mox/PyTorch"}, w);
  for (const char* mode : {"train", "infer"}) {
    if (!results.contains(mode)) continue;
    json& r = results[mode];
    std::optional<double> t = peer_value(peer, mode, "img_per_s");
    r["ratio"] = bench::speed_ratio(r["mox"]["img_per_s"].get<double>(), t);
    bench::print_row({mode, bench::fmt(r["mox"]["img_per_s"].get<double>()), t ? bench::fmt(*t) : "-",
                      bench::ratio_str(r["ratio"])},
                     w);
  }
  if (!results.contains("train")) return;
  json& r = results["train"];
  std::optional<double> t = peer_value(peer, "train", "peak_rss_growth_mib");
  double m = r["mox"]["peak_rss_growth_mib"];
  r["memory_ratio"] = t && *t > 0 ? json(m / *t) : json(nullptr);
  std::cout << "\ntraining-step peak memory, MiB (growth of peak resident size; Mox/PyTorch < 1: Mox uses less)\n";
  bench::print_row({"", "Mox MiB", "PyTorch MiB", "Mox/PyTorch"}, w);
  bench::print_row({"peak resident growth", bench::fmt(m, 0), t ? bench::fmt(*t, 0) : "-", bench::ratio_str(r["memory_ratio"])}, w);
  bench::print_row({"Mox allocator peak (info)", bench::fmt(r["mox"]["allocator_peak_mib"].get<double>(), 0), "", ""}, w);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_resnet50: ResNet-50 training step and inference, Mox vs PyTorch, img/s, ratio and peak memory"};
  bench::Options o;
  o.reps = 5;
  o.warmup = 1;
  bench::add_common_options(app, o, true);
  Config c;
  bool train_child = false;
  app.add_option("--device", c.device, "cpu, or cuda (needs a CUDA build and a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--gpus", c.gpus, "GPUs for --device cuda (1 on cpu)")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--batch", c.batch, "images per step")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--image_size", c.image_size, "image height and width")->check(CLI::Range(32, 1024))->capture_default_str();
  app.add_option("--num_classes", c.num_classes, "classes of the classifier")->check(CLI::Range(2, 100000))->capture_default_str();
  app.add_option("--mode", c.modes, "what to time: train, infer or both")
      ->delimiter(',')
      ->check(CLI::IsMember({"train", "infer"}))
      ->capture_default_str();
  app.add_flag("--train-child", train_child, "internal: run the Mox training measurement, print its JSON")->group("");
  CLI11_PARSE(app, argc, argv);

  try {
    check_device(c);
    bench::apply_threads(o);
    if (train_child) {
      bench::print_json(mox_train(c, o));
      return 0;
    }
    json cond = bench::conditions(
        "bench_resnet50", o,
        {{"model", "resnet_v1_50 (torchvision resnet50, v1.5)"},
         {"device", c.device},
         {"batch", c.batch},
         {"image_size", c.image_size},
         {"num_classes", c.num_classes},
         {"dtype", "f32, NCHW"},
         {"train_step", "zero grads, forward (batch statistics), cross-entropy on random labels, backward, "
                        "SGD momentum 0.9 lr 0.01, no weight decay"},
         {"infer", "eval-mode forward without autograd"},
         {"memory", "growth of peak resident size (VmHWM) over resident size before the first training step; "
                    "Mox's training in a child process"},
         {"peer", o.no_peer ? "none" : "PyTorch torchvision.models.resnet50 via " + o.python + ", run after Mox"}});

    json results = json::object();
    if (c.has("train")) {
      std::cerr << "mox: training in a child process" << std::endl;
      results["train"]["mox"] = run_train_child(c, o);
    }
    if (c.has("infer")) results["infer"]["mox"] = mox_infer(c, o);

    std::optional<json> peer;
    if (!o.no_peer) {
      std::cerr << "torch: starting the peer" << std::endl;
      peer = bench::run_torch_peer(bench::kResNet50TorchBody,
                                   {{"batch", c.batch}, {"image_size", c.image_size}, {"num_classes", c.num_classes},
                                    {"device", c.device}, {"modes", c.modes}, {"lr", kLr}, {"momentum", kMomentum}},
                                   o);
      if (peer) {
        cond["torch_version"] = (*peer)["torch_version"];
        cond["torch_threads"] = (*peer)["torch_threads"];
        cond["torch_parameters"] = (*peer)["parameters"];
        for (const char* mode : {"train", "infer"})
          if (peer->contains(mode)) results[mode]["torch"] = (*peer)[mode];
      } else {
        cond["peer_error"] = "the PyTorch peer failed (message on stderr); no ratio";
      }
    }
    if (c.has("train")) cond["mox_parameters"] = results["train"]["mox"]["parameters"];
    bench::print_conditions(cond);
    print_table(results, peer);

    bool ok = true;
    if (c.has("train")) {
      results["loss_check"] = check_losses(c, results["train"]["mox"], peer);
      ok = results["loss_check"]["ok"].get<bool>();
      std::cout << "\nloss check: Mox first loss " << bench::fmt(results["loss_check"]["mox_first"].get<double>(), 3)
                << " (ln " << c.num_classes << " = " << bench::fmt(std::log(double(c.num_classes)), 3) << ")"
                << (peer && peer->contains("train")
                        ? ", PyTorch first loss " + bench::fmt((*peer)["train"]["loss_first"].get<double>(), 3)
                        : std::string())
                << ": " << (ok ? "ok" : "FAILED (a loss is not finite or Mox's first loss is far from ln C)")
                << std::endl;
    }
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bench_resnet50: " << e.what() << "\n";
    return 1;
  }
}
