// bench_conv: Mox conv2d (core/ops/conv.cpp over kernels/cpu/conv.cpp and the GEMM), forward
// and forward+backward, against PyTorch's conv2d (Debian's python3-torch, same threads, same
// shapes, timed by an embedded script in the same run) on layers of the seed CNN and of a
// ResNet-style network, including a depthwise one. Reports milliseconds and the ratio
// PyTorch time / Mox time (> 1: Mox faster).
#include <algorithm>
#include <iostream>

#include "bench/common.h"
#include "core/ops.h"

using namespace mox;
using bench::json;

namespace {

struct Layer {
  std::string name;
  int64_t n, c, h, w, out_c, k, stride, pad, groups;
  bool need_dx;  // false for a first layer: its input is data, no gradient wanted
  int64_t oh() const { return (h + 2 * pad - k) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - k) / stride + 1; }
  double fwd_flop() const {
    return 2.0 * double(n * out_c * oh() * ow()) * double(c / groups * k * k);
  }
  json to_json() const {
    return {{"name", name}, {"n", n}, {"c", c}, {"h", h}, {"w", w}, {"out_c", out_c}, {"k", k},
            {"stride", stride}, {"pad", pad}, {"groups", groups}, {"need_dx", need_dx}};
  }
};

const std::vector<Layer> kLayers = {
    {"seed_conv1", 64, 1, 28, 28, 32, 3, 1, 0, 1, false},
    {"seed_conv2", 64, 32, 26, 26, 64, 3, 1, 0, 1, true},
    {"resnet_3x3", 8, 64, 56, 56, 64, 3, 1, 1, 1, true},
    {"depthwise_3x3", 8, 32, 56, 56, 32, 3, 1, 1, 32, true},
};

// The PyTorch side: the same layers, forward under no_grad, then forward+backward with
// gradients reset to None before each step (as Mox's zero_grad does).
const char* kTorchBody = R"PY(
import torch.nn.functional as F
dt = getattr(torch, {"f32": "float32", "f64": "float64"}[ARGS["dtype"]])
RESULT["mkldnn_enabled"] = torch.backends.mkldnn.enabled
for L in ARGS["layers"]:
    x = torch.randn(L["n"], L["c"], L["h"], L["w"], dtype=dt)
    w = torch.randn(L["out_c"], L["c"] // L["groups"], L["k"], L["k"], dtype=dt) * 0.1
    b = torch.randn(L["out_c"], dtype=dt)
    conv = lambda: F.conv2d(x, w, b, L["stride"], L["pad"], 1, L["groups"])
    with torch.no_grad():
        fwd = median_seconds(conv)
        gy = torch.randn_like(conv())
    x.requires_grad_(L["need_dx"])
    w.requires_grad_(True)
    b.requires_grad_(True)
    def step():
        x.grad = None
        w.grad = None
        b.grad = None
        conv().backward(gy)
    RESULT[L["name"]] = {"fwd_ms": fwd * 1e3, "fwdbwd_ms": median_seconds(step) * 1e3}
)PY";

json time_mox(const Layer& L, DType dt, const bench::Options& o) {
  Tensor x = randn({L.n, L.c, L.h, L.w}, opts(dt));
  Tensor w = mul(randn({L.out_c, L.c / L.groups, L.k, L.k}, opts(dt)), 0.1);
  Tensor b = randn({L.out_c}, opts(dt));
  Conv2dOptions co;
  co.stride[0] = co.stride[1] = L.stride;
  co.padding[0] = co.padding[1] = L.pad;
  co.groups = L.groups;
  double fwd;
  Tensor gy;
  {
    NoGradGuard no_grad;
    fwd = bench::median_seconds([&] { conv2d(x, w, b, co); }, o.warmup, o.reps);
    gy = randn(conv2d(x, w, b, co).sizes(), opts(dt));
  }
  x.requires_grad_(L.need_dx);
  w.requires_grad_(true);
  b.requires_grad_(true);
  double fwdbwd = bench::median_seconds(
      [&] {
        x.zero_grad();
        w.zero_grad();
        b.zero_grad();
        conv2d(x, w, b, co).backward(gy);
      },
      o.warmup, o.reps);
  return {{"fwd_ms", fwd * 1e3}, {"fwdbwd_ms", fwdbwd * 1e3}, {"fwd_gflops", L.fwd_flop() / fwd * 1e-9}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_conv: Mox conv2d forward and forward+backward vs PyTorch, ms and ratio"};
  bench::Options o;
  bench::add_common_options(app, o, true);
  std::vector<std::string> names;
  for (const Layer& L : kLayers) names.push_back(L.name);
  std::vector<std::string> selected = names;
  int64_t batch = 0;
  std::string dtype = "f32";
  app.add_option("--layers", selected, "layers to run")->delimiter(',')->check(CLI::IsMember(names))->capture_default_str();
  app.add_option("--batch", batch, "batch size for every layer (default: each layer's own)")->check(CLI::PositiveNumber);
  app.add_option("--dtype", dtype, "element type")->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    bench::apply_threads(o);
    const DType dt = dtype == "f32" ? DType::f32 : DType::f64;
    std::vector<Layer> layers;
    for (const Layer& L : kLayers)
      if (std::find(selected.begin(), selected.end(), L.name) != selected.end()) {
        layers.push_back(L);
        if (batch > 0) layers.back().n = batch;
      }
    json layer_json = json::array();
    for (const Layer& L : layers) layer_json.push_back(L.to_json());

    json cond = bench::conditions(
        "bench_conv", o,
        {{"dtype", dtype},
         {"layout", "NCHW, bias, dilation 1"},
         {"fwdbwd", "zero grads, forward, backward (dx only where need_dx)"},
         {"peer", o.no_peer ? "none" : "PyTorch F.conv2d via " + o.python + ", run after Mox"},
         {"layers", layer_json}});
    bench::print_conditions(cond);

    json results = json::array();
    for (const Layer& L : layers) results.push_back(json{{"layer", L.name}, {"mox", time_mox(L, dt, o)}});

    std::optional<json> peer;
    if (!o.no_peer) {
      peer = bench::run_torch_peer(kTorchBody, {{"dtype", dtype}, {"layers", layer_json}}, o);
      if (!peer) cond["peer_error"] = "the PyTorch peer failed (message on stderr); no ratio";
      if (peer) {
        cond["torch_version"] = (*peer)["torch_version"];
        cond["torch_threads"] = (*peer)["torch_threads"];
        cond["torch_mkldnn"] = (*peer)["mkldnn_enabled"];
        std::cout << "  torch           " << (*peer)["torch_version"].get<std::string>() << ", "
                  << (*peer)["torch_threads"] << " threads\n";
      }
    }

    std::vector<int> w = {14, 26, 10, 10, 7, 12, 12, 7, 9};
    bench::print_row({"layer", "shape", "mox fwd", "torch fwd", "ratio", "mox fwd+bwd", "torch f+b",
                      "ratio", "fwd GF/s"},
                     w);
    for (size_t i = 0; i < layers.size(); ++i) {
      const Layer& L = layers[i];
      json& r = results[i];
      std::optional<double> t_fwd, t_fb;
      if (peer && peer->contains(L.name)) {
        r["torch"] = (*peer)[L.name];
        t_fwd = r["torch"]["fwd_ms"].get<double>();
        t_fb = r["torch"]["fwdbwd_ms"].get<double>();
      }
      // Speeds as inverse times, so the ratio is peer time / Mox time.
      double m_fwd = r["mox"]["fwd_ms"], m_fb = r["mox"]["fwdbwd_ms"];
      r["ratio_fwd"] = bench::speed_ratio(1 / m_fwd, t_fwd ? std::optional<double>(1 / *t_fwd) : std::nullopt);
      r["ratio_fwdbwd"] = bench::speed_ratio(1 / m_fb, t_fb ? std::optional<double>(1 / *t_fb) : std::nullopt);
      std::string shape = std::to_string(L.n) + "x" + std::to_string(L.c) + "x" + std::to_string(L.h) + "x" +
                          std::to_string(L.w) + "->" + std::to_string(L.out_c) + (L.groups > 1 ? " dw" : "");
      bench::print_row({L.name, shape, bench::fmt(m_fwd) + "ms", t_fwd ? bench::fmt(*t_fwd) + "ms" : "-",
                        bench::ratio_str(r["ratio_fwd"]), bench::fmt(m_fb) + "ms",
                        t_fb ? bench::fmt(*t_fb) + "ms" : "-", bench::ratio_str(r["ratio_fwdbwd"]),
                        bench::fmt(r["mox"]["fwd_gflops"].get<double>(), 1)},
                       w);
    }
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_conv: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
