// mox_dist_helper: the program tests/dist/test_mpi.cpp starts under mpirun. Subcommands:
//   collectives  every communicator operation checked against closed-form values
//   train        a small CNN trained with mox::run (data parallel under mpirun); rank 0 writes
//                the final parameters; faults (throw, exit, kill, hang) and a mismatched model
//                can be injected on one rank
#pragma once
#include <cstdint>
#include <string>

namespace mox::dist_helper {

struct Options {
  // collectives
  int64_t chunk_bytes = 1024;  // small: many chunks per segment
  // train
  int64_t batch_size = 64, steps = 12;
  std::string out, variable_update = "replicated_host", allreduce = "ring";
  double bucket_mb = 0.001;  // about 1 KiB: several buckets even for the small model
  int ranks_per_node = 0;
  bool overlap = true;
  std::string fault;         // throw, exit, kill, hang
  int fault_rank = 1;
  int64_t fault_step = 3;
  bool mismatch = false;     // fault_rank builds a wider hidden layer
};

int collectives(const Options& o);
int train(const Options& o);

}  // namespace mox::dist_helper
