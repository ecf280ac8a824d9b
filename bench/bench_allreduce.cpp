// bench_allreduce: Mox's ring allreduce (dist/ring_allreduce.h) against MPI_Allreduce (Open
// MPI's tuned collectives) on f32 buffers of 4 KiB..256 MiB, over 2 and 4 ranks on this
// machine's shared memory. Run without mpirun it starts itself under mpirun once per rank
// count (--worker), gathers rank 0's JSON and prints algorithm bandwidth (bytes / time) and
// bus bandwidth (algbw * 2(n-1)/n, what each link carries, NCCL's convention) for both, the
// ratio ring / MPI, and the alpha-beta scaling projection beside the manual's ResNet-50 tables.
// Time per size: the slowest rank's, median of --reps after --warmup, each after a barrier.
#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "bench/common.h"
#include "bench/scaling_projection.h"
#include "dist/mpi_communicator.h"

using namespace mox;
using bench::json;

namespace {

struct Args {
  bench::Options o;
  std::vector<int> ranks = {2, 4};
  int64_t min_bytes = 4 << 10, max_bytes = int64_t(256) << 20;
  int64_t chunk_kb = 256;
  double net_gbps = 100, overlap = 0;
  bool worker = false;
};

// The slowest rank's seconds for one allreduce of comm (the median over reps).
double time_allreduce(dist::MpiCommunicator& comm, Tensor& buf, const bench::Options& o, int reps) {
  std::vector<double> times;
  for (int i = 0; i < o.warmup + reps; ++i) {
    comm.barrier();
    double t0 = MPI_Wtime();
    comm.allreduce(buf, dist::ReduceOp::sum);
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, comm.comm());
    if (i >= o.warmup) times.push_back(dt);
  }
  return bench::median(times);
}

int worker(const Args& a) {
  dist::init_mpi();
  dist::MpiOptions mo;
  mo.ring.chunk_bytes = a.chunk_kb * 1024;
  dist::MpiCommunicator ring(MPI_COMM_WORLD, mo);
  mo.algo = dist::AllreduceAlgo::mpi;
  dist::MpiCommunicator mpi(MPI_COMM_WORLD, mo);
  json points = json::array();
  for (int64_t bytes = a.min_bytes; bytes <= a.max_bytes; bytes *= 4) {
    Tensor buf = full({bytes / 4}, 1.0, opts(DType::f32));
    int reps = bytes >= (int64_t(64) << 20) ? std::max(1, a.o.reps / 3) : a.o.reps;  // the big ones take seconds
    json p = {{"bytes", bytes}, {"ring_s", time_allreduce(ring, buf, a.o, reps)}};
    if (!a.o.no_peer) p["mpi_s"] = time_allreduce(mpi, buf, a.o, reps);
    points.push_back(p);
  }
  if (ring.rank() == 0) std::cout << json{{"ranks", ring.size()}, {"points", points}}.dump() << std::endl;
  return 0;
}

// Runs this program under mpirun with n ranks; returns rank 0's JSON.
json launch(const Args& a, int n, const std::string& self) {
  std::string cmd = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe --mca btl self,vader -np " +
                    std::to_string(n) + " " + self + " --worker --threads 1 --warmup " + std::to_string(a.o.warmup) +
                    " --reps " + std::to_string(a.o.reps) + " --min_bytes " + std::to_string(a.min_bytes) +
                    " --max_bytes " + std::to_string(a.max_bytes) + " --chunk_kb " + std::to_string(a.chunk_kb) +
                    (a.o.no_peer ? " --no-peer" : "");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot start " + cmd);
  std::string out, last;
  char buf[4096];
  while (fgets(buf, sizeof buf, p)) {
    out += buf;
    if (buf[0] == '{') last = buf;
  }
  int status = pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || last.empty())
    throw std::runtime_error("mpirun with " + std::to_string(n) + " ranks failed:\n" + out);
  return json::parse(last);
}

std::string size_str(int64_t bytes) {
  if (bytes >= (1 << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_allreduce: Mox's ring allreduce vs MPI_Allreduce on 2 and 4 ranks (started under mpirun "
               "by this program), algorithm and bus bandwidth, ratio, and the scaling projection"};
  Args a;
  a.o.reps = 5;
  bench::add_common_options(app, a.o, false);
  app.add_option("--ranks", a.ranks, "rank counts to run")->delimiter(',')->capture_default_str();
  app.add_option("--min_bytes", a.min_bytes, "smallest buffer (bytes; sizes grow by 4x)")->capture_default_str();
  app.add_option("--max_bytes", a.max_bytes, "largest buffer (bytes)")->capture_default_str();
  app.add_option("--chunk_kb", a.chunk_kb, "ring pipeline chunk (KiB)")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--net_gbps", a.net_gbps, "projection: assumed network bandwidth between nodes (Gbit/s)")
      ->capture_default_str();
  app.add_option("--overlap", a.overlap, "projection: fraction of the allreduce hidden behind backward")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--worker", a.worker, "internal: one rank of the measurement (under mpirun)");
  CLI11_PARSE(app, argc, argv);
  try {
    if (a.min_bytes < 4 || a.max_bytes < a.min_bytes) throw CLI::ValidationError("--min_bytes/--max_bytes", "bad range");
    if (a.worker) return worker(a);
    json cond = bench::conditions(
        "bench_allreduce", a.o,
        {{"dtype", "f32"},
         {"ranks", a.ranks},
         {"transport", "Open MPI, shared memory (btl self,vader), --oversubscribe, one thread per rank"},
         {"ring_chunk_bytes", a.chunk_kb * 1024},
         {"peer", a.o.no_peer ? "none" : "MPI_Allreduce (Open MPI tuned collectives) in the same mpirun job"},
         {"note", "ranks share the machine's cores with whatever else runs; the load average is above"}});
    bench::print_conditions(cond);
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) throw std::runtime_error("cannot find this program's path");
    self[len] = '\0';
    json runs = json::array();
    const std::vector<int> w = {6, 10, 12, 12, 12, 12, 12, 12, 8};
    json model_points;
    int model_ranks = 0;
    for (int n : a.ranks) {
      json r = launch(a, n, self);
      std::printf("\n%d ranks\n", n);
      bench::print_row({"ranks", "size", "ring ms", "ring alg", "ring bus", "MPI ms", "MPI alg", "MPI bus", "ratio"}, w);
      double factor = 2.0 * (n - 1) / n;
      for (json& p : r["points"]) {
        double bytes = p["bytes"], ring_s = p["ring_s"];
        p["ring_algbw_GBps"] = bytes / ring_s / 1e9;
        p["ring_busbw_GBps"] = bytes / ring_s / 1e9 * factor;
        std::optional<double> mpi_s;
        if (p.contains("mpi_s")) {
          mpi_s = p["mpi_s"].get<double>();
          p["mpi_algbw_GBps"] = bytes / *mpi_s / 1e9;
          p["mpi_busbw_GBps"] = bytes / *mpi_s / 1e9 * factor;
        }
        // Same bytes, so the bandwidth ratio is the inverse time ratio (> 1: the ring is faster).
        p["ratio"] = bench::speed_ratio(1 / ring_s, mpi_s ? std::optional<double>(1 / *mpi_s) : std::nullopt);
        bench::print_row({std::to_string(n), size_str(int64_t(bytes)), bench::fmt(ring_s * 1e3, 3),
                          bench::fmt(p["ring_algbw_GBps"].get<double>()), bench::fmt(p["ring_busbw_GBps"].get<double>()),
                          mpi_s ? bench::fmt(*mpi_s * 1e3, 3) : "-",
                          mpi_s ? bench::fmt(p["mpi_algbw_GBps"].get<double>()) : "-",
                          mpi_s ? bench::fmt(p["mpi_busbw_GBps"].get<double>()) : "-", bench::ratio_str(p["ratio"])},
                         w);
      }
      std::printf("  (GB/s = 1e9 bytes/s; alg = size / time, bus = alg * 2(n-1)/n; ratio = ring bandwidth / MPI's)\n");
      runs.push_back(r);
      model_points = r["points"];
      model_ranks = n;
    }
    json results = {{"conditions", cond}, {"runs", runs}};
    if (model_ranks >= 2) {
      bench::CostModel m = bench::cost_model_from(model_points, model_ranks);
      m.net_Bps = a.net_gbps * 1e9 / 8;
      m.net_alpha_s = 5e-6;
      m.grad_bytes = 25557032.0 * 4;
      m.overlap = a.overlap;
      std::printf("\n(model fed by the ring's times on %d ranks)", model_ranks);
      results["projection"] = bench::print_projection(m);
    }
    if (a.o.json) bench::print_json(results);
  } catch (const std::exception& e) {
    std::cerr << "bench_allreduce: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
