// bench_elementwise: Mox's elementwise ops (kernels/cpu/elementwise.cpp through core's ops) on
// dense f32 vectors of 1M..16M elements against PyTorch (Debian's python3-torch, same threads,
// timed by an embedded script in the same run): add, mul, relu, exp, sigmoid forward and relu
// backward (through autograd on both sides: y = relu(x) once, then y.backward(g) with
// retain_graph per repetition). Reports GB/s counted as the bytes an op must move (binary and
// relu backward: 2 reads + 1 write; unary: 1 read + 1 write) and the ratio Mox / PyTorch for the
// allocating ops of both; PyTorch's out= variants (no allocation) are shown beside.
#include <iostream>

#include "bench/common.h"
#include "core/ops.h"

using namespace mox;
using bench::json;

namespace {

const std::vector<std::string> kOps = {"add", "mul", "relu", "exp", "sigmoid", "relu_bwd"};

int64_t bytes_moved(const std::string& op, int64_t n) {
  bool three = op == "add" || op == "mul" || op == "relu_bwd";
  return (three ? 3 : 2) * n * int64_t(sizeof(float));
}

// "1M", "512K", "1000": element counts (K = 2^10, M = 2^20).
int64_t parse_count(const std::string& s) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    throw CLI::ValidationError("--sizes", "'" + s + "' is not a count");
  }
  std::string suffix = s.substr(used);
  if (suffix == "K" || suffix == "k") v <<= 10;
  else if (suffix == "M" || suffix == "m") v <<= 20;
  else if (!suffix.empty()) throw CLI::ValidationError("--sizes", "'" + s + "': suffix K or M");
  if (v <= 0) throw CLI::ValidationError("--sizes", "'" + s + "' must be positive");
  return v;
}

const char* kTorchBody = R"PY(
aten = torch.ops.aten
for n in ARGS["sizes"]:
    a = torch.rand(n) * 2 - 1
    b = torch.rand(n) * 2 - 1
    out = torch.empty(n)
    x = a.clone().requires_grad_(True)
    y = torch.relu(x)
    def relu_bwd():
        x.grad = None
        y.backward(b, retain_graph=True)
    fns = {
        "add": (lambda: torch.add(a, b), lambda: torch.add(a, b, out=out)),
        "mul": (lambda: torch.mul(a, b), lambda: torch.mul(a, b, out=out)),
        "relu": (lambda: torch.relu(a), lambda: aten.relu.out(a, out=out)),
        "exp": (lambda: torch.exp(a), lambda: torch.exp(a, out=out)),
        "sigmoid": (lambda: torch.sigmoid(a), lambda: torch.sigmoid(a, out=out)),
        "relu_bwd": (relu_bwd, lambda: aten.threshold_backward.grad_input(b, a, 0, grad_input=out)),
    }
    for op in ARGS["ops"]:
        f, f_out = fns[op]
        with torch.no_grad() if op != "relu_bwd" else torch.enable_grad():
            RESULT[op + "/" + str(n)] = {"s": median_seconds(f), "s_out": median_seconds(f_out)}
)PY";

double time_mox(const std::string& op, int64_t n, const bench::Options& o) {
  Tensor a = uniform({n}, -1, 1), b = uniform({n}, -1, 1);
  if (op == "relu_bwd") {
    Tensor x = a.clone().requires_grad_(true);
    Tensor y = relu(x);
    return bench::median_seconds(
        [&] {
          x.zero_grad();
          y.backward(b, /*retain_graph=*/true);
        },
        o.warmup, o.reps);
  }
  NoGradGuard no_grad;
  std::function<void()> f;
  if (op == "add") f = [&] { add(a, b); };
  else if (op == "mul") f = [&] { mul(a, b); };
  else if (op == "relu") f = [&] { relu(a); };
  else if (op == "exp") f = [&] { exp(a); };
  else if (op == "sigmoid") f = [&] { sigmoid(a); };
  else throw std::invalid_argument("unknown op " + op);
  return bench::median_seconds(f, o.warmup, o.reps);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_elementwise: Mox elementwise ops vs PyTorch on f32 vectors, GB/s and ratio"};
  bench::Options o;
  bench::add_common_options(app, o, true);
  std::vector<std::string> size_args = {"1M", "4M", "16M"};
  std::vector<std::string> ops = kOps;
  app.add_option("--sizes", size_args, "element counts (suffix K = 2^10, M = 2^20)")->delimiter(',')->capture_default_str();
  app.add_option("--ops", ops, "ops to run")->delimiter(',')->check(CLI::IsMember(kOps))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    bench::apply_threads(o);
    std::vector<int64_t> sizes;
    for (const std::string& s : size_args) sizes.push_back(parse_count(s));

    json cond = bench::conditions(
        "bench_elementwise", o,
        {{"dtype", "f32"},
         {"sizes", sizes},
         {"ops", ops},
         {"bytes", "binary, relu_bwd: 12 B/element; unary: 8 B/element"},
         {"mox_path", "core ops (output from Mox's caching allocator); relu_bwd through autograd"},
         {"peer", o.no_peer ? "none" : "PyTorch via " + o.python + ", run after Mox; ratio vs its allocating ops"}});
    bench::print_conditions(cond);

    json results = json::array();
    for (int64_t n : sizes)
      for (const std::string& op : ops) {
        double t = time_mox(op, n, o);
        results.push_back({{"op", op}, {"n", n}, {"mox_gbps", double(bytes_moved(op, n)) / t * 1e-9}});
      }

    std::optional<json> peer;
    if (!o.no_peer) {
      peer = bench::run_torch_peer(kTorchBody, {{"sizes", sizes}, {"ops", ops}}, o);
      if (!peer) cond["peer_error"] = "the PyTorch peer failed (message on stderr); no ratio";
      if (peer) {
        cond["torch_version"] = (*peer)["torch_version"];
        cond["torch_threads"] = (*peer)["torch_threads"];
        std::cout << "  torch           " << (*peer)["torch_version"].get<std::string>() << ", "
                  << (*peer)["torch_threads"] << " threads\n";
      }
    }

    std::vector<int> w = {9, 10, 9, 10, 7, 15};
    bench::print_row({"op", "elements", "mox GB/s", "torch GB/s", "ratio", "torch out= GB/s"}, w);
    for (json& r : results) {
      const std::string op = r["op"];
      const int64_t n = r["n"];
      const double bytes = double(bytes_moved(op, n));
      std::optional<double> torch_gbps, torch_out_gbps;
      std::string key = op + "/" + std::to_string(n);
      if (peer && peer->contains(key)) {
        torch_gbps = bytes / (*peer)[key]["s"].get<double>() * 1e-9;
        torch_out_gbps = bytes / (*peer)[key]["s_out"].get<double>() * 1e-9;
        r["torch_gbps"] = *torch_gbps;
        r["torch_out_gbps"] = *torch_out_gbps;
      }
      r["ratio"] = bench::speed_ratio(r["mox_gbps"].get<double>(), torch_gbps);
      bench::print_row({op, std::to_string(n), bench::fmt(r["mox_gbps"].get<double>()),
                        torch_gbps ? bench::fmt(*torch_gbps) : "-", bench::ratio_str(r["ratio"]),
                        torch_out_gbps ? bench::fmt(*torch_out_gbps) : "-"},
                       w);
    }
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_elementwise: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
