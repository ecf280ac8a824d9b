// Data-parallel training inside mox::run: RunArgs::data_parallel set, every rank of an mpirun
// job runs the same run() on its shard of each global batch, and the gradients are averaged
// across ranks during backward (dist/reducer.h), so N ranks at batch B train like one process
// at batch N*B. At the start every rank checks it holds the same model as rank 0 and takes
// rank 0's parameters and buffers; rank 0 alone prints, writes summaries and checkpoints.
//
//   auto dp = mox::data_parallel_from_flags(flags::global());  // null outside mpirun
//   mox::run({..., .batch_size = 32, .data_parallel = dp});   // mpirun -np 2: global batch 64
#pragma once
#include <map>
#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/reducer.h"
#include "io/data/batcher.h"
#include "nn/module.h"
#include "nn/run/flags.h"
#include "nn/run/run.h"

namespace mox {

struct DataParallelOptions {
  // MoXing's variable_update: "replicated_host" (reduce on each node, allreduce across nodes
  // on host memory, broadcast back) or "replicated" (one flat allreduce over all ranks: NCCL
  // when the model is on a GPU, MPI on host memory otherwise).
  std::string variable_update = "replicated_host";
  std::string allreduce = "ring";  // host allreduce: Mox's ring or MPI_Allreduce ("mpi")
  int64_t bucket_bytes = 25 << 20;
  bool overlap = true;             // reduce buckets during backward
  bool gpu = false;                // the model's parameters live on this rank's GPU
  int ranks_per_node = 0;          // replicated_host: 0 = MPI's shared-memory nodes
  // run() draws global batches of batch_size * size() rows and gives each rank its slice;
  // false: input_fn already reads this rank's own data.
  bool shard_input = true;
};

class DataParallel {
 public:
  DataParallel(std::shared_ptr<dist::Communicator> comm, DataParallelOptions o);
  // Over every rank of the mpirun job, with o's strategy.
  static std::shared_ptr<DataParallel> world(const DataParallelOptions& o);

  int rank() const { return comm_->rank(); }
  int size() const { return comm_->size(); }
  bool chief() const { return rank() == 0; }
  dist::Communicator& comm() { return *comm_; }
  const DataParallelOptions& options() const { return o_; }

  // --- called by run() in TRAIN mode
  // Checks the model matches rank 0's, broadcasts rank 0's parameters and buffers, and hooks
  // the gradient reducer onto the parameters.
  void begin(nn::Module& model);
  // The training batches of this rank (see shard_input). A final global batch with fewer
  // rows than ranks is dropped on every rank.
  data::BatchSource input(const InputFn& input_fn, ModeKeys mode, int64_t batch_size);
  void before_backward();
  void after_backward();
  // The mean over ranks of each logged value, so every rank logs and decides (hooks) alike.
  std::map<std::string, double> average(const std::map<std::string, double>& values);

 private:
  std::shared_ptr<dist::Communicator> comm_;
  DataParallelOptions o_;
  std::unique_ptr<dist::GradientReducer> reducer_;
  int64_t local_rows_ = 0, global_rows_ = 0;  // of the current batch, when sharded
};

// Defines the data-parallel flags on f: MoXing's variable_update, worker_hosts, ps_hosts,
// task_index and job_name, plus allreduce, bucket_mb and ranks_per_node.
void define_data_parallel_flags(flags::FlagSet& f);
// The DataParallel the flags and the mpirun environment ask for: null in a single process.
// MoXing's cluster flags are checked against the MPI world: --worker_hosts must list as many
// hosts as the job spans nodes, --task_index must be this rank's node, --job_name must be
// "worker" (there are no parameter servers), --num_gpus must be 0 or 1 (one GPU per rank).
std::shared_ptr<DataParallel> data_parallel_from_flags(const flags::FlagSet& f);

// For a program's error handler: under mpirun, prints "rank R: message" to stderr and aborts
// the whole job (MPI_Abort), so the other ranks stop instead of waiting for this one forever.
// Outside mpirun it returns and the caller exits as usual.
void abort_job_on_error(const std::string& program, const std::string& message, int code = 1);

}  // namespace mox
