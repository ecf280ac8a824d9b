#include <CLI/CLI.hpp>

#include <iostream>

#include "nn/run/data_parallel.h"
#include "tests/dist/helper/helper.h"

int main(int argc, char** argv) {
  using namespace mox::dist_helper;
  Options o;
  CLI::App app{"Test helper for Mox's distributed training: run it under mpirun (see tests/dist/test_mpi.cpp)."};
  app.require_subcommand(1);
  auto* coll = app.add_subcommand("collectives", "check allreduce (ring, MPI, hierarchical), broadcast, allgather, "
                                                 "barrier and the gradient reducer on every rank");
  coll->add_option("--chunk_bytes", o.chunk_bytes, "ring pipeline chunk size");
  auto* train = app.add_subcommand("train", "train a small CNN with mox::run; rank 0 writes the parameters to --out");
  train->add_option("--batch_size", o.batch_size, "per-rank batch size");
  train->add_option("--steps", o.steps, "training steps");
  train->add_option("--out", o.out, "safetensors file for the final parameters (rank 0)");
  train->add_option("--variable_update", o.variable_update, "replicated_host or replicated");
  train->add_option("--allreduce", o.allreduce, "ring or mpi");
  train->add_option("--bucket_mb", o.bucket_mb, "gradient bucket size in MiB");
  train->add_option("--ranks_per_node", o.ranks_per_node, "replicated_host: ranks per node (0: MPI's nodes)");
  train->add_flag("!--no_overlap", o.overlap, "reduce the buckets after backward instead of during it");
  train->add_option("--fault", o.fault, "inject a fault on --fault_rank at --fault_step")
      ->check(CLI::IsMember({"throw", "exit", "kill", "hang"}));
  train->add_option("--fault_rank", o.fault_rank, "the rank that fails");
  train->add_option("--fault_step", o.fault_step, "the step at which it fails");
  train->add_flag("--mismatch", o.mismatch, "--fault_rank builds a model with another hidden width");
  CLI11_PARSE(app, argc, argv);
  try {
    return coll->parsed() ? collectives(o) : mox::dist_helper::train(o);
  } catch (const std::exception& e) {
    mox::abort_job_on_error("mox_dist_helper", e.what());
    std::cerr << "mox_dist_helper: " << e.what() << std::endl;
    return 1;
  }
}
