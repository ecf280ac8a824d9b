// Shared pieces of the bench_* programs; see common.h.
#include "bench/common.h"

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kernels/linalg.h"

namespace mox::bench {

const char* const kOpenblasSlowEnv[2] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};

int available_cores() { return omp_get_num_procs(); }

void add_common_options(CLI::App& app, Options& o, bool torch_peer) {
  o.threads = available_cores();
  app.add_option("--threads", o.threads, "threads for Mox and for the peer (default: all cores)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup, "untimed runs before timing")->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--reps", o.reps, "timed runs; the median is reported")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--json", o.json, "print one JSON object with the results last");
  app.add_flag("--no-peer", o.no_peer, "skip the peer (no ratio)");
  if (torch_peer) app.add_option("--python", o.python, "Python with torch, for PyTorch peers")->capture_default_str();
}

void apply_threads(const Options& o) { omp_set_num_threads(o.threads); }

double median(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("median of no values");
  std::sort(v.begin(), v.end());
  size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

std::vector<double> median_seconds_interleaved(const std::vector<std::function<void()>>& fns,
                                               int warmup, int reps, double settle_seconds) {
  auto settle = [&] {
    if (settle_seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds));
  };
  for (int i = 0; i < warmup; ++i)
    for (const auto& fn : fns) {
      fn();
      settle();
    }
  std::vector<std::vector<double>> t(fns.size());
  for (int i = 0; i < reps; ++i)
    for (size_t f = 0; f < fns.size(); ++f) {
      if (settle_seconds > 0) fns[f]();  // wakes the parked threads again, untimed
      auto t0 = std::chrono::steady_clock::now();
      fns[f]();
      t[f].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      settle();
    }
  std::vector<double> out;
  for (auto& v : t) out.push_back(median(std::move(v)));
  return out;
}

double median_seconds(const std::function<void()>& fn, int warmup, int reps) {
  return median_seconds_interleaved({fn}, warmup, reps)[0];
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto p = line.find(':');
      return p == std::string::npos ? line : line.substr(std::min(p + 2, line.size()));
    }
  return "unknown";
}

std::vector<double> load_average() {
  std::ifstream in("/proc/loadavg");
  std::vector<double> v(3, -1.0);
  in >> v[0] >> v[1] >> v[2];
  return v;
}

}  // namespace

json conditions(const std::string& program, const Options& o, const json& extra) {
  __builtin_cpu_init();
  std::string simd = __builtin_cpu_supports("avx512f") ? "avx512f"
                     : __builtin_cpu_supports("avx2") ? "avx2"
                                                       : "baseline";
  json c = {{"program", program},
            {"threads", o.threads},
            {"cores", available_cores()},
            {"cpu", cpu_model()},
            {"cpu_simd", simd},
            {"gemm_isa", cpu::gemm_isa_name(cpu::gemm_isa())},
            {"load_average", load_average()},
            {"omp_wait_policy", std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "default"},
            {"warmup", o.warmup},
            {"reps", o.reps},
            {"timing", "median of reps after warmup, wall clock"},
            {"ratio", "Mox speed / peer speed (> 1: Mox faster)"}};
  c.update(extra);
  return c;
}

void print_conditions(const json& cond) {
  std::cout << cond.value("program", std::string("bench")) << " conditions:\n";
  for (auto it = cond.begin(); it != cond.end(); ++it) {
    if (it.key() == "program") continue;
    std::cout << "  " << std::left << std::setw(16) << it.key() << std::right << " "
              << (it->is_string() ? it->get<std::string>() : it->dump()) << "\n";
  }
  std::cout << std::flush;
}

void print_row(const std::vector<std::string>& cells, const std::vector<int>& widths) {
  std::ostringstream os;
  for (size_t i = 0; i < cells.size(); ++i) {
    int w = i < widths.size() ? widths[i] : 10;
    if (i == 0)
      os << std::left << std::setw(w) << cells[i] << std::right;
    else
      os << " " << std::setw(w) << cells[i];
  }
  std::cout << os.str() << std::endl;
}

std::string fmt(double v, int precision) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(precision) << v;
  return os.str();
}

std::string sci(double v) {
  if (v < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

json speed_ratio(double mox_speed, const std::optional<double>& peer_speed) {
  if (!peer_speed || *peer_speed <= 0) return nullptr;
  return mox_speed / *peer_speed;
}

std::string ratio_str(const json& ratio) { return ratio.is_number() ? fmt(ratio.get<double>(), 2) + "x" : "-"; }

void print_json(const json& results) { std::cout << results.dump() << std::endl; }

namespace {

const char* kPrelude = R"PY(
import json, statistics, sys, time
import torch
ARGS = json.loads(sys.stdin.readline())
torch.set_num_threads(ARGS["threads"])
torch.manual_seed(0)

def median_seconds(fn, warmup=ARGS["warmup"], reps=ARGS["reps"]):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)

RESULT = {}
)PY";

const char* kEpilogue = R"PY(
RESULT["torch_version"] = torch.__version__
RESULT["torch_threads"] = torch.get_num_threads()
print(json.dumps(RESULT))
)PY";

// Single-quotes s for /bin/sh.
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace

std::optional<json> run_torch_peer(const std::string& body, const json& args, const Options& o) {
  char path[] = "/tmp/mox_bench_peer_XXXXXX.py";
  int fd = mkstemps(path, 3);
  if (fd < 0) {
    std::cerr << "peer: cannot create a temporary script\n";
    return std::nullopt;
  }
  std::string script = std::string(kPrelude) + body + kEpilogue;
  bool wrote = write(fd, script.data(), script.size()) == ssize_t(script.size());
  close(fd);
  json a = args;
  a["threads"] = o.threads;
  a["warmup"] = o.warmup;
  a["reps"] = o.reps;
  // ARGS arrive on stdin (one JSON line); stdout carries the result, stderr passes through.
  std::string cmd = "env";
  for (const char* v : kOpenblasSlowEnv) cmd += std::string(" -u ") + v;
  cmd += " " + shell_quote(o.python) + " " + shell_quote(path) + " <<'MOX_ARGS_EOF'\n" + a.dump() +
         "\nMOX_ARGS_EOF\n";
  std::string out;
  int status = -1;
  if (wrote) {
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
      status = pclose(p);
    }
  }
  unlink(path);
  if (!wrote || status != 0) {
    std::cerr << "peer: " << o.python << " failed ("
              << (status != -1 && WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                                    : "status " + std::to_string(status))
              << "); no ratio\n";
    return std::nullopt;
  }
  // The last non-empty line is the result.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  std::string last = out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
  json r = json::parse(last, nullptr, false);
  if (r.is_discarded() || !r.is_object()) {
    std::cerr << "peer: unreadable output: " << last << "\n";
    return std::nullopt;
  }
  return r;
}

}  // namespace mox::bench
