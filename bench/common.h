// What every bench_* program shares: the common flags (--threads, --warmup, --reps, --json,
// --no-peer, --python), the timer (warm-up, then the median of N repetitions), the statement
// of conditions, table and JSON printing, and the runner for PyTorch peers (an embedded Python
// script run through popen with Debian's python3, timing the same work with the same threads).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mox::bench {

using json = nlohmann::json;

struct Options {
  int threads = 0;  // 0 until parsed: add_common_options sets the default (all cores)
  int warmup = 2;
  int reps = 10;
  bool json = false;
  bool no_peer = false;
  std::string python = "/usr/bin/python3";
};

// Registers the common flags on app, with threads defaulting to every core; --python only
// when the peer is PyTorch.
void add_common_options(CLI::App& app, Options& o, bool torch_peer);
// Applies the parsed thread count to Mox (OpenMP).
void apply_threads(const Options& o);
int available_cores();

// Runs fn warmup times untimed, then reps times, and returns the median wall time in seconds.
double median_seconds(const std::function<void()>& fn, int warmup, int reps);
double median(std::vector<double> v);
// Runs fns in turn, warmup rounds untimed, then reps rounds timed, and returns each one's
// median wall time in seconds: alternating keeps a slow spell of a shared machine from
// landing on one side of a comparison only. settle_seconds of sleep after each call lets
// the idle threads of a thread pool that spin-waits (OpenBLAS's spin about 0.1 s) park before
// the next one runs, so they do not steal its cores; each timed call then follows an untimed
// one, so waking the parked threads is not timed either.
std::vector<double> median_seconds_interleaved(const std::vector<std::function<void()>>& fns,
                                               int warmup, int reps, double settle_seconds = 0);

// The conditions of a run: program, threads, cores, CPU model and flags, GEMM ISA, load
// average at the start, warm-up and repetitions, plus what the program adds (sizes, dtype...).
json conditions(const std::string& program, const Options& o, const json& extra);
void print_conditions(const json& cond);

// Fixed-width table rows: each cell right-aligned in its width (the first left-aligned).
void print_row(const std::vector<std::string>& cells, const std::vector<int>& widths);
std::string fmt(double v, int precision = 2);
// Scientific notation with 2 significant digits; "-" for a negative value (missing).
std::string sci(double v);
// Mox's speed over the peer's (> 1: Mox is faster); null when the peer figure is missing.
json speed_ratio(double mox_speed, const std::optional<double>& peer_speed);
std::string ratio_str(const json& ratio);

// Prints the results object as the last line of output (for --json).
void print_json(const json& results);

// Environment variables that slow OpenBLAS down on this machine: removed for every peer.
extern const char* const kOpenblasSlowEnv[2];

// Runs body (Python, indented at top level) after a prelude that imports torch, sets
// ARGS = args (with "threads", "warmup", "reps" added from o), calls
// torch.set_num_threads(threads), defines median_seconds(fn) (same warm-up and repetitions as
// ours) and RESULT = {}. The script prints RESULT as JSON; that object is returned, with
// "torch_version" and "torch_threads" added. On failure (no python, no torch, bad output) the
// reason is printed to stderr and nullopt returned.
std::optional<json> run_torch_peer(const std::string& body, const json& args, const Options& o);

}  // namespace mox::bench
