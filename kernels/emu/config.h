// Emulator options (scheduling order, workers, seed, fiber stack size, what a misuse does),
// read once from the environment and changeable from code, plus how misuse is reported.
//
//   MOX_EMU_ORDER      forward | reverse | random   order of blocks and of threads in a block
//   MOX_EMU_WORKERS    N (default 1)                 OS threads running blocks
//   MOX_EMU_SEED       integer (default 1)           seed of the random order
//   MOX_EMU_STACK_KB   KiB per fiber stack (default 64, 256 under ASan)
//   MOX_EMU_ON_MISUSE  abort | throw (default abort) print the report and abort, or throw Misuse
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define MOX_EMU_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define MOX_EMU_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(MOX_EMU_ASAN)
#define MOX_EMU_ASAN 1
#endif
#if __has_feature(thread_sanitizer) && !defined(MOX_EMU_TSAN)
#define MOX_EMU_TSAN 1
#endif
#endif

namespace mox::emu {

enum class Order { Forward, Reverse, Random };
enum class OnMisuse { Abort, Throw };

struct Options {
  Order order = Order::Forward;
  int workers = 1;
  uint64_t seed = 1;
#if defined(MOX_EMU_ASAN)
  size_t stack_bytes = size_t(256) << 10;
#else
  size_t stack_bytes = size_t(64) << 10;
#endif
  OnMisuse on_misuse = OnMisuse::Abort;
};

// A kernel broke a CUDA rule the emulator checks (divergent barrier, deadlock, a collective
// naming exited lanes, ...). Thrown by the launch when on_misuse is Throw.
class Misuse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline const char* order_name(Order o) {
  switch (o) {
    case Order::Forward: return "forward";
    case Order::Reverse: return "reverse";
    case Order::Random: return "random";
  }
  return "?";
}

namespace detail {

[[noreturn]] inline void bad_env(const char* name, const char* value, const char* expected) {
  std::fprintf(stderr, "mox-emu: %s=%s is not %s\n", name, value, expected);
  std::abort();
}

inline uint64_t env_uint(const char* name, uint64_t fallback, uint64_t lo, uint64_t hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long long x = std::strtoull(v, &end, 0);
  if (*end || x < lo || x > hi) bad_env(name, v, "an integer in range");
  return x;
}

inline Options options_from_env() {
  Options o;
  if (const char* v = std::getenv("MOX_EMU_ORDER"); v && *v) {
    if (!std::strcmp(v, "forward")) o.order = Order::Forward;
    else if (!std::strcmp(v, "reverse")) o.order = Order::Reverse;
    else if (!std::strcmp(v, "random")) o.order = Order::Random;
    else bad_env("MOX_EMU_ORDER", v, "forward, reverse or random");
  }
  o.workers = int(env_uint("MOX_EMU_WORKERS", 1, 1, 256));
  o.seed = env_uint("MOX_EMU_SEED", 1, 0, UINT64_MAX);
  o.stack_bytes = size_t(env_uint("MOX_EMU_STACK_KB", o.stack_bytes >> 10, 16, 1 << 20)) << 10;
  if (const char* v = std::getenv("MOX_EMU_ON_MISUSE"); v && *v) {
    if (!std::strcmp(v, "abort")) o.on_misuse = OnMisuse::Abort;
    else if (!std::strcmp(v, "throw")) o.on_misuse = OnMisuse::Throw;
    else bad_env("MOX_EMU_ON_MISUSE", v, "abort or throw");
  }
  return o;
}

}  // namespace detail

// The options the next launch uses (process-wide; set them between launches, not during one).
inline Options& options() {
  static Options o = detail::options_from_env();
  return o;
}

// Sets options for a scope and restores the previous ones after.
class ScopedOptions {
 public:
  explicit ScopedOptions(const Options& o) : saved_(options()) { options() = o; }
  ~ScopedOptions() { options() = saved_; }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  Options saved_;
};

// The configurations a kernel test runs under: forward, reverse and random order with 1 and 2
// workers, keeping the rest of the current options (seed, stack size, misuse action).
inline std::vector<Options> standard_configs() {
  std::vector<Options> out;
  for (int workers : {1, 2})
    for (Order order : {Order::Forward, Order::Reverse, Order::Random}) {
      Options o = options();
      o.order = order;
      o.workers = workers;
      out.push_back(o);
    }
  return out;
}

inline std::string describe(const Options& o) {
  return std::string(order_name(o.order)) + " order, " + std::to_string(o.workers) +
         (o.workers == 1 ? " worker" : " workers") + ", seed " + std::to_string(o.seed);
}

}  // namespace mox::emu
