// The data of one block being run: its fibers (one per CUDA thread), their requests at barriers
// and warp collectives, its warps and their pending collectives, and the launch it belongs to.
// scheduler.h runs it; sync.h, wmma.h make the requests.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/emu/config.h"
#include "kernels/emu/fiber.h"
#include "kernels/emu/types.h"

namespace mox::emu::detail {

struct Fiber;

// Where a fiber is: running, ready to run, waiting at a block barrier, in a warp collective,
// in __activemask (released when the block is quiescent), or finished.
enum class Wait : uint8_t { Running, Ready, Barrier, Warp, Active, Done };

enum class OpKind : uint8_t { Barrier, Warp, Active };

// Fills each participant's req.out from the participants' requests; lanes[i] is lane i's fiber
// (null where the block has no such thread), mask the participating lanes.
using Compute = void (*)(Fiber* const* lanes, unsigned mask);

// A barrier or collective. Lanes of one collective must call the same Op (same intrinsic,
// same wmma fragment types).
struct Op {
  const char* name;
  OpKind kind;
  bool syncs_memory;  // barriers and __syncwarp order memory; shuffles and votes do not
  int code;           // barriers: 0 plain, 1 count, 2 and, 3 or
  Compute compute;
};

// What a fiber asks for when it stops; `out` is the answer when it resumes.
struct Request {
  const Op* op = nullptr;
  std::source_location loc;
  unsigned mask = 0;
  int width = 32;
  int arg = 0;
  uint64_t in = 0;
  uint64_t out = 0;
  const void* ptr[4] = {};
};

struct Fiber {
  Context ctx;
  Stack stack;
  void* asan_fake = nullptr;
  void* tsan = nullptr;
  bool dirty = false;  // abandoned mid-run (after a report): its stack needs unpoisoning
  uint3 idx{0, 0, 0};
  unsigned tid = 0, lane = 0, warp = 0;
  Wait wait = Wait::Done;
  Request req;
};

// A collective some lanes of a warp have reached. For __activemask, `mask` is unused and the
// group is keyed by call site.
struct Group {
  const Op* op;
  unsigned mask;
  unsigned arrived;
  std::source_location loc;
  uint64_t token;  // names its TSan synchronisation object
};

struct Warp {
  unsigned exist = 0;  // lanes the block has
  unsigned live = 0;   // lanes not yet exited
  Fiber* lanes[32] = {};
  std::vector<Group> groups;
};

// One kernel launch, shared by the workers running its blocks.
struct Launch {
  const char* name = "";
  dim3 grid, block;
  size_t smem = 0;
  void (*body)(const void*) = nullptr;  // runs the kernel with its arguments for one thread
  const void* args = nullptr;
  Options opts;
  uint64_t nblocks = 0;
  unsigned nthreads = 0;
  std::vector<uint32_t> perm;  // block order for Order::Random
  uint64_t perm_a = 1, perm_b = 0;  // affine block order when the grid is too large for perm
  std::atomic<uint64_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex m;
  std::exception_ptr error;
  char tsan_begin = 0, tsan_end = 0;  // TSan: host -> fibers and fibers -> host ordering

  uint64_t block_at(uint64_t i) const {
    switch (opts.order) {
      case Order::Forward: return i;
      case Order::Reverse: return nblocks - 1 - i;
      case Order::Random: return perm.empty() ? (perm_a * i + perm_b) % nblocks : perm[i];
    }
    return i;
  }
  void fail(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m);
    if (!error) error = e;
    stop.store(true);
  }
};

inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline std::string site(const std::source_location& loc) {
  std::string f = loc.file_name();
  size_t slash = f.find_last_of('/');
  if (slash != std::string::npos) f = f.substr(slash + 1);
  return f + ":" + std::to_string(loc.line());
}

inline bool same_site(const std::source_location& a, const std::source_location& b) {
  return a.line() == b.line() && a.column() == b.column() &&
         (a.file_name() == b.file_name() || std::string_view(a.file_name()) == b.file_name());
}

inline std::string hex(unsigned mask) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", mask);
  return buf;
}

inline std::string coords(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}

}  // namespace mox::emu::detail
