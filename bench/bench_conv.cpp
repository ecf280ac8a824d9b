// bench_conv: Mox conv2d (core/ops/conv.cpp over kernels/cpu/conv.cpp and the GEMM) on every
// distinct convolution of ResNet-50 (or the seed CNN's layers), three passes timed apart —
// forward, backward-data (dx), backward-weight (dw) — against two peers in the same run:
// oneDNN in this process (bench/onednn_conv.h: the primitives alone, in their preferred
// layouts) and PyTorch (Debian's python3-torch, an embedded script). Reports ms, GFLOP/s,
// Mox/peer speed ratios, Mox's fraction of the machine's FMA peak (bench/fma_peak.h), and
// checks Mox's results against oneDNN's (a relative difference above 1e-3 fails the run).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

#include "bench/common.h"
#include "bench/conv_layers.h"
#include "bench/fma_peak.h"
#include "bench/onednn_conv.h"
#include "core/ops.h"

using namespace mox;
using bench::ConvLayer;
using bench::ConvPass;
using bench::json;

namespace {

constexpr double kTolerance = 1e-3;  // relative to the largest reference magnitude

// Each pass alone, with gradients reset before each run. PyTorch's own backward entry point
// computes dx or dw only, as its autograd would for an input or a weight alone.
const char* kTorchBody = R"PY(
import torch.nn.functional as F
RESULT["mkldnn_enabled"] = torch.backends.mkldnn.enabled
for L in ARGS["layers"]:
    x = torch.randn(L["n"], L["c"], L["h"], L["w"])
    w = torch.randn(L["out_c"], L["c"] // L["groups"], L["k"], L["k"]) * 0.1
    st, pad, g = [L["stride"]] * 2, [L["pad"]] * 2, L["groups"]
    with torch.no_grad():
        fwd = lambda: F.conv2d(x, w, None, st, pad, 1, g)
        r = {"fwd_ms": median_seconds(fwd) * 1e3}
        gy = torch.randn_like(fwd())
        def bwd(mask):
            return lambda: torch.ops.aten.convolution_backward(gy, x, w, None, st, pad, [1, 1], False,
                                                               [0, 0], g, mask)
        if L["need_dx"]:
            r["bwd_data_ms"] = median_seconds(bwd([True, False, False])) * 1e3
        r["bwd_weight_ms"] = median_seconds(bwd([False, True, False])) * 1e3
    RESULT[L["name"]] = r
)PY";

// Mox's figures for one layer: ms per pass (NaN when not run) and the results, kept for the
// check against oneDNN.
struct MoxRun {
  double ms[3] = {NAN, NAN, NAN};
  Tensor out[3];
};

MoxRun time_mox(const ConvLayer& L, const Tensor& x, const Tensor& w, const Tensor& gy, const bench::Options& o) {
  Conv2dOptions co;
  co.stride[0] = co.stride[1] = L.shape.stride;
  co.padding[0] = co.padding[1] = L.shape.pad;
  co.groups = L.shape.groups;
  MoxRun r;
  {
    NoGradGuard no_grad;
    r.ms[0] = 1e3 * bench::median_seconds([&] { conv2d(x, w, {}, co); }, o.warmup, o.reps);
    r.out[0] = conv2d(x, w, {}, co);
  }
  // A backward pass alone: the graph of one conv2d whose input (or weight) alone requires grad
  // is recorded once and run again and again (retain_graph), so only the gradient is timed.
  auto time_backward = [&](int pass, bool input) {
    Tensor xi = x.detach(), wi = w.detach();
    Tensor& leaf = input ? xi : wi;
    leaf.requires_grad_(true);
    Tensor y = conv2d(xi, wi, {}, co);
    auto step = [&] {
      leaf.zero_grad();
      y.backward(gy, true);
    };
    r.ms[pass] = 1e3 * bench::median_seconds(step, o.warmup, o.reps);
    r.out[pass] = leaf.grad();
  };
  if (L.need_dx) time_backward(int(ConvPass::backward_data), true);
  time_backward(int(ConvPass::backward_weights), false);
  return r;
}

double rel_max_diff(const Tensor& mox, const std::vector<float>& ref) {
  const float* m = mox.data_ptr<float>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    diff = std::max(diff, double(std::fabs(m[i] - ref[i])));
    scale = std::max(scale, double(std::fabs(ref[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// oneDNN's ms per pass on the same data, and the relative difference of Mox's results to its.
void time_onednn(const ConvLayer& L, const Tensor& x, const Tensor& w, const Tensor& gy, const MoxRun& mox,
                 bool winograd, const bench::Options& o, json& passes) {
  bench::OnednnConv dn(L.shape, x.data_ptr<float>(), w.data_ptr<float>(), gy.data_ptr<float>(), winograd);
  for (ConvPass p : bench::kConvPasses) {
    if (std::isnan(mox.ms[int(p)])) continue;
    json& r = passes[bench::pass_name(p)];
    r["onednn_ms"] = 1e3 * bench::median_seconds([&] { dn.run(p); }, o.warmup, o.reps);
    r["onednn_impl"] = dn.impl(p);
    std::vector<float> ref(size_t(mox.out[int(p)].numel()));
    dn.result(p, ref.data());
    r["max_rel_diff"] = rel_max_diff(mox.out[int(p)], ref);
  }
}

// The FMA peak on 1 and on all threads, each the better of this measurement and `prior`.
struct Peaks {
  std::optional<double> one, all;
};
Peaks measure_peaks(int threads, const Peaks& prior = {}) {
  auto best = [](std::optional<double> a, std::optional<double> b) {
    return a && b ? std::optional<double>(std::max(*a, *b)) : a ? a : b;
  };
  Peaks p;
  p.one = best(bench::fma_peak_gflops(1), prior.one);
  p.all = threads == 1 ? p.one : best(bench::fma_peak_gflops(threads), prior.all);
  return p;
}

double geomean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += std::log(x);
  return v.empty() ? NAN : std::exp(s / double(v.size()));
}

std::string opt_fmt(const json& r, const char* key, int precision = 2) {
  return r.contains(key) && r[key].is_number() ? bench::fmt(r[key].get<double>(), precision) : "-";
}

// Fills GFLOP/s, ratios and peak fraction of one pass's figures.
void derive(json& r, double flop, std::optional<double> peak) {
  auto gflops = [&](const char* ms) { return flop / (r[ms].get<double>() * 1e-3) * 1e-9; };
  r["mox_gflops"] = gflops("mox_ms");
  if (peak) r["mox_peak_fraction"] = r["mox_gflops"].get<double>() / *peak;
  for (std::string peer : {"onednn", "torch"})
    if (r.contains(peer + "_ms")) {
      r[peer + "_gflops"] = gflops((peer + "_ms").c_str());
      r["ratio_" + peer] = bench::speed_ratio(r["mox_gflops"].get<double>(), r[peer + "_gflops"].get<double>());
    }
}

// Total ms of each pass over the layers where Mox and the peer both ran, plain and weighted by
// the number of convolutions of that shape in the network.
json totals(const std::vector<ConvLayer>& layers, const json& results) {
  json t;
  for (ConvPass p : bench::kConvPasses) {
    const char* pn = bench::pass_name(p);
    for (std::string peer : {"onednn", "torch"}) {
      double m = 0, q = 0, mw = 0, qw = 0;
      int used = 0;
      for (size_t i = 0; i < layers.size(); ++i) {
        const json& passes = results[i]["passes"];
        if (!passes.contains(pn) || !passes[pn].contains(peer + "_ms")) continue;
        double a = passes[pn]["mox_ms"], b = passes[pn][peer + "_ms"];
        m += a, q += b, mw += a * layers[i].count, qw += b * layers[i].count, ++used;
      }
      if (used == 0) continue;
      t[pn][peer] = {{"layers", used},           {"mox_ms", m},   {"peer_ms", q},
                     {"ratio", q / m},           {"mox_ms_weighted", mw}, {"peer_ms_weighted", qw},
                     {"ratio_weighted", qw / mw}};
    }
  }
  return t;
}

// Derives each pass's speeds and ratios, prints the table, and returns the summary: the 3x3
// forward geometric means, totals, oneDNN's implementations and the passes that failed the check.
json report(const std::vector<ConvLayer>& layers, json& results, std::optional<double> peak) {
  std::vector<int> wd = {16, 26, 10, 9, 7, 6, 9, 7, 8, 9, 7, 9, 9};
  bench::print_row({"layer", "shape", "pass", "mox ms", "GF/s", "%peak", "dnnl ms", "GF/s", "mox/dnnl",
                    "torch ms", "GF/s", "mox/torch", "diff"},
                   wd);
  json failed = json::array();
  std::vector<double> r3_dnnl, r3_torch;
  std::map<std::string, int> impls;
  for (size_t i = 0; i < layers.size(); ++i) {
    const ConvLayer& L = layers[i];
    bool first = true;
    for (ConvPass p : bench::kConvPasses) {
      const std::string pn = bench::pass_name(p);
      if (!results[i]["passes"].contains(pn)) continue;
      json& r = results[i]["passes"][pn];
      derive(r, L.flop(), peak);
      bool bad = r.contains("max_rel_diff") && !(r["max_rel_diff"].get<double>() <= kTolerance);
      if (bad) failed.push_back(L.name + " " + pn);
      if (r.contains("onednn_impl")) ++impls[r["onednn_impl"].get<std::string>()];
      if (p == ConvPass::forward && L.shape.k == 3 && L.shape.groups == 1) {
        if (r.contains("ratio_onednn")) r3_dnnl.push_back(r["ratio_onednn"]);
        if (r.contains("ratio_torch")) r3_torch.push_back(r["ratio_torch"]);
      }
      std::string pct =
          r.contains("mox_peak_fraction") ? bench::fmt(100 * r["mox_peak_fraction"].get<double>(), 0) + "%" : "-";
      bench::print_row({first ? L.name : "", first ? L.shape_str() : "", pn, opt_fmt(r, "mox_ms"),
                        opt_fmt(r, "mox_gflops", 1), pct, opt_fmt(r, "onednn_ms"), opt_fmt(r, "onednn_gflops", 1),
                        bench::ratio_str(r.value("ratio_onednn", json())), opt_fmt(r, "torch_ms"),
                        opt_fmt(r, "torch_gflops", 1), bench::ratio_str(r.value("ratio_torch", json())),
                        r.contains("max_rel_diff") ? bench::sci(r["max_rel_diff"]) + (bad ? " BAD" : "") : "-"},
                       wd);
      first = false;
    }
  }

  json summary = {{"totals", totals(layers, results)}};
  if (!r3_dnnl.empty()) summary["geomean_3x3_fwd_ratio_onednn"] = geomean(r3_dnnl);
  if (!r3_torch.empty()) summary["geomean_3x3_fwd_ratio_torch"] = geomean(r3_torch);
  summary["onednn_impls"] = impls;
  bool amx = false;
  for (auto& [name, n] : impls) amx = amx || name.find("amx") != std::string::npos;
  if (!impls.empty()) summary["onednn_used_amx"] = amx;
  std::cout << "\n3x3 forward, geometric mean of Mox/oneDNN over " << r3_dnnl.size()
            << " layers: " << (r3_dnnl.empty() ? "-" : bench::fmt(geomean(r3_dnnl)) + "x")
            << " (target >= 0.70x); Mox/PyTorch over " << r3_torch.size()
            << ": " << (r3_torch.empty() ? "-" : bench::fmt(geomean(r3_torch)) + "x") << "\n";
  for (ConvPass p : bench::kConvPasses) {
    const json& tp = summary["totals"];
    if (!tp.contains(bench::pass_name(p))) continue;
    for (auto& [peer, t] : tp[bench::pass_name(p)].items())
      std::cout << "total " << bench::pass_name(p) << " vs " << peer << " over " << t["layers"] << " layers: Mox "
                << bench::fmt(t["mox_ms"]) << " ms, " << peer << " " << bench::fmt(t["peer_ms"]) << " ms ("
                << bench::fmt(t["ratio"]) << "x); weighted by count: " << bench::fmt(t["ratio_weighted"]) << "x\n";
  }
  if (!impls.empty()) {
    std::cout << "oneDNN implementations:";
    for (auto& [name, n] : impls) std::cout << " " << name << " (" << n << ")";
    std::cout << (amx ? "; AMX used" : "; no AMX") << "\n";
  }
  summary["check_tolerance"] = kTolerance;
  summary["check_failed"] = failed;
  return summary;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench_conv: Mox conv2d forward, backward-data and backward-weight on ResNet-50's convolutions vs "
      "oneDNN and PyTorch: ms, GFLOP/s, ratio, fraction of the FMA peak, and a check against oneDNN"};
  bench::Options o;
  bench::add_common_options(app, o, true);
  std::vector<std::string> names;
  for (const ConvLayer& L : bench::conv_layers()) names.push_back(L.name);
  std::vector<std::string> selected, peers = {"onednn", "torch"};
  std::string set = "resnet50";
  int64_t batch = 0;
  bool winograd = false;
  app.add_option("--layers", selected, "layers to run, from any set (default: every layer of --set)")
      ->delimiter(',')
      ->check(CLI::IsMember(names));
  app.add_option("--set", set, "layer set: resnet50 (batch 32), seed (the seed CNN and a depthwise layer), all")
      ->check(CLI::IsMember({"resnet50", "seed", "all"}))
      ->capture_default_str();
  app.add_option("--batch", batch, "batch size for every layer (default: each set's own)")->check(CLI::PositiveNumber);
  app.add_option("--peers", peers, "peers to run: onednn, torch")
      ->delimiter(',')
      ->check(CLI::IsMember({"onednn", "torch"}))
      ->capture_default_str();
  app.add_flag("--onednn-winograd", winograd,
               "let oneDNN use Winograd where it judges it faster (algorithm::convolution_auto)");
  CLI11_PARSE(app, argc, argv);
  auto has_peer = [&](const std::string& p) {
    return !o.no_peer && std::find(peers.begin(), peers.end(), p) != peers.end();
  };

  try {
    bench::apply_threads(o);
    std::vector<ConvLayer> layers;
    for (const ConvLayer& L : bench::conv_layers()) {
      bool pick = selected.empty() ? set == "all" || L.set == set
                                   : std::find(selected.begin(), selected.end(), L.name) != selected.end();
      if (!pick) continue;
      layers.push_back(L);
      if (batch > 0) layers.back().shape.n = batch;
    }
    json layer_json = json::array();
    for (const ConvLayer& L : layers) layer_json.push_back(L.to_json());

    Peaks before = measure_peaks(o.threads);
    json extra = {
        {"dtype", "f32"},
        {"layout", "NCHW, no bias, dilation 1"},
        {"mox_timing", "fwd: conv2d under NoGradGuard; bwd_data / bwd_weight: backward(dy, retain_graph) of a "
                       "recorded conv2d whose input / weight alone requires grad"},
        {"bwd_data", "skipped for layers reading data (need_dx false: conv1, seed_conv1)"},
        {"fma_peak", "AVX-512 FMA loop, 16 accumulators per thread, GFLOP/s (2 flops per lane), the better of "
                     "runs before and after the timings (a loaded machine lowers either)"},
        {"check", "Mox's y, dx, dw vs oneDNN's on the same data: max |mox - onednn| / max |onednn|, tolerance 1e-3"},
        {"layers", layer_json}};
    if (has_peer("onednn")) {
      bench::OnednnInfo info = bench::onednn_info();
      extra["onednn"] = "libdnnl " + info.version + ", " + info.runtime + " runtime, ISA " + info.isa;
      extra["onednn_timing"] =
          std::string("the primitive's own time (execute + stream wait), ") +
          (winograd ? "convolution_auto" : "convolution_direct") +
          ", layouts of oneDNN's choosing (format_tag::any), inputs reordered into them once outside the timing";
      for (const char* v : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"})
        if (const char* s = std::getenv(v)) extra["onednn_env"] = std::string(v) + "=" + s;
    }
    extra["torch"] = has_peer("torch") ? "F.conv2d under no_grad; aten.convolution_backward with output_mask for dx "
                                         "or dw; via " + o.python + ", run after Mox and oneDNN"
                                       : "not run";
    json cond = bench::conditions("bench_conv", o, extra);
    bench::print_conditions(cond);

    json results = json::array();
    for (const ConvLayer& L : layers) {
      const bench::ConvShape& s = L.shape;
      Tensor x = randn({s.n, s.c, s.h, s.w});
      Tensor w = mul(randn({s.out_c, s.c / s.groups, s.k, s.k}), 0.1);
      Tensor gy = randn({s.n, s.out_c, s.oh(), s.ow()});
      MoxRun mox = time_mox(L, x, w, gy, o);
      json passes;
      for (ConvPass p : bench::kConvPasses)
        if (!std::isnan(mox.ms[int(p)])) passes[bench::pass_name(p)]["mox_ms"] = mox.ms[int(p)];
      if (has_peer("onednn")) time_onednn(L, x, w, gy, mox, winograd, o, passes);
      results.push_back({{"layer", L.name}, {"passes", passes}});
    }

    if (has_peer("torch")) {
      std::optional<json> torch = bench::run_torch_peer(kTorchBody, {{"layers", layer_json}}, o);
      if (!torch) cond["torch_error"] = "the PyTorch peer failed (message on stderr); no ratio";
      for (size_t i = 0; torch && i < layers.size(); ++i) {
        const json& t = (*torch)[layers[i].name];
        for (auto it = results[i]["passes"].begin(); it != results[i]["passes"].end(); ++it)
          if (t.contains(it.key() + "_ms")) (*it)["torch_ms"] = t[it.key() + "_ms"];
      }
      if (torch) {
        cond["torch_version"] = (*torch)["torch_version"];
        cond["torch_threads"] = (*torch)["torch_threads"];
        std::cout << "  torch            " << (*torch)["torch_version"].get<std::string>() << ", "
                  << (*torch)["torch_threads"] << " threads, mkldnn " << (*torch)["mkldnn_enabled"] << "\n";
      }
    }

    Peaks peak = measure_peaks(o.threads, before);
    auto rounded = [](std::optional<double> v) { return v ? json(std::round(*v * 10) / 10) : json(nullptr); };
    cond["fma_peak_1thread"] = rounded(peak.one);
    cond["fma_peak_threads"] = rounded(peak.all);
    std::cout << "\nFMA peak: " << (peak.one ? bench::fmt(*peak.one, 1) : "-") << " GFLOP/s on 1 thread, "
              << (peak.all ? bench::fmt(*peak.all, 1) : "-") << " on " << o.threads << "\n\n";
    json summary = report(layers, results, peak.all);
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}, {"summary", summary}});
    if (!summary["check_failed"].empty()) {
      std::cerr << "bench_conv: Mox differs from oneDNN by more than " << kTolerance << " (relative) on:";
      for (const json& f : summary["check_failed"]) std::cerr << " " << f.get<std::string>() << ";";
      std::cerr << "\n";
      return 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "bench_conv: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
