#include "nn/run/data_parallel.h"

#include <mpi.h>

#include <iostream>
#include <sstream>

#include "dist/hierarchical.h"
#include "dist/mpi_communicator.h"
#include "dist/sync.h"
#ifdef MOX_WITH_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace mox {

DataParallel::DataParallel(std::shared_ptr<dist::Communicator> comm, DataParallelOptions o)
    : comm_(std::move(comm)), o_(std::move(o)) {
  MOX_CHECK(comm_ != nullptr, "DataParallel", "needs a communicator");
}

std::shared_ptr<DataParallel> DataParallel::world(const DataParallelOptions& o) {
  dist::MpiOptions mo;
  mo.algo = dist::parse_allreduce_algo(o.allreduce);
  std::shared_ptr<dist::Communicator> comm;
  if (o.variable_update == "replicated_host") {
    dist::init_mpi();
    comm = std::make_shared<dist::HierarchicalCommunicator>(MPI_COMM_WORLD, mo, o.ranks_per_node);
  } else if (o.variable_update == "replicated") {
    if (o.gpu) {
#ifdef MOX_WITH_NCCL
      comm = dist::NcclCommunicator::world();
#else
      throw Error("flags: --variable_update=replicated on GPUs needs NCCL; this Mox was built without CUDA");
#endif
    } else {
      comm = dist::MpiCommunicator::world(mo);
    }
  } else {
    throw Error("flags: --variable_update='" + o.variable_update +
                "' is not supported (replicated_host, replicated; Mox has no parameter servers)");
  }
  return std::make_shared<DataParallel>(comm, o);
}

void DataParallel::begin(nn::Module& model) {
  nn::NamedTensors params = model.named_parameters(), buffers = model.named_buffers();
  dist::check_same_tensors(*comm_, params, "parameters");
  dist::check_same_tensors(*comm_, buffers, "buffers");
  {
    NoGradGuard no_grad;
    dist::broadcast_tensors(*comm_, params, 0);
    dist::broadcast_tensors(*comm_, buffers, 0);
  }
  nn::NamedTensors trained;
  for (auto& [name, p] : params)
    if (p.requires_grad()) trained.emplace_back(name, p);
  reducer_ = std::make_unique<dist::GradientReducer>(comm_, trained,
                                                     dist::BucketOptions{o_.bucket_bytes, o_.overlap});
}

data::BatchSource DataParallel::input(const InputFn& input_fn, ModeKeys mode, int64_t batch_size) {
  if (!o_.shard_input) return input_fn(mode, batch_size);
  int64_t n = size(), r = rank();
  data::BatchSource global = input_fn(mode, batch_size * n);
  return [this, global, n, r]() -> std::optional<data::Batch> {
    std::optional<data::Batch> b = global();
    if (!b) return std::nullopt;
    int64_t rows = b->empty() ? 0 : (*b)[0].size(0);
    if (rows < n) return std::nullopt;
    // Rank r takes rows [rows*r/n, rows*(r+1)/n): contiguous, equal when rows divides evenly.
    int64_t begin = rows * r / n, end = rows * (r + 1) / n;
    data::Batch mine;
    for (const Tensor& t : *b) mine.push_back(t.narrow(0, begin, end - begin).contiguous());
    local_rows_ = end - begin;
    global_rows_ = rows;
    return mine;
  };
}

void DataParallel::before_backward() {
  MOX_CHECK(reducer_ != nullptr, "DataParallel", "begin(model) must run before the first backward");
  // Each rank's gradient is the mean over its rows: weighted by its share of the global batch,
  // the sum is the mean over the global batch even when the shards differ by a row.
  bool sharded = o_.shard_input && global_rows_ > 0;
  reducer_->prepare(sharded ? double(local_rows_) / double(global_rows_) : 1.0 / double(size()));
}

void DataParallel::after_backward() { reducer_->finish(); }

std::map<std::string, double> DataParallel::average(const std::map<std::string, double>& values) {
  std::vector<double> v;
  for (auto& [name, x] : values) v.push_back(x);
  Tensor t = from_vector(v, {int64_t(v.size())}, opts(DType::f64, comm_->device()));
  comm_->allreduce(t, dist::ReduceOp::mean);
  std::vector<double> mean = t.tolist();
  std::map<std::string, double> out;
  size_t i = 0;
  for (auto& [name, x] : values) out[name] = mean[i++];
  return out;
}

namespace {

std::vector<std::string> split_hosts(const std::string& list) {
  std::vector<std::string> out;
  std::istringstream in(list);
  for (std::string h; std::getline(in, h, ',');)
    if (!h.empty()) out.push_back(h);
  return out;
}

}  // namespace

void define_data_parallel_flags(flags::FlagSet& f) {
  f.define_string("variable_update", "replicated_host",
                  "under mpirun: replicated_host (reduce per node, allreduce across nodes on host memory) or "
                  "replicated (one allreduce over all ranks; NCCL with --num_gpus=1)");
  f.define_string("allreduce", "ring", "host allreduce: ring (Mox's pipelined ring) or mpi (MPI_Allreduce)");
  f.define_float("bucket_mb", 25, "gradient fusion buffer size in MiB");
  f.define_integer("ranks_per_node", 0, "replicated_host: consecutive ranks per node (0: as MPI finds them)");
  f.define_string("worker_hosts", "", "MoXing's worker host list; must match the nodes of the mpirun job");
  f.define_string("ps_hosts", "", "MoXing's parameter server hosts: not used (allreduce), must be empty");
  f.define_integer("task_index", 0, "MoXing's worker index; must match this rank's node");
  f.define_string("job_name", "worker", "MoXing's job name; every rank is a worker");
}

std::shared_ptr<DataParallel> data_parallel_from_flags(const flags::FlagSet& f) {
  std::string job = f.get_string("job_name");
  MOX_CHECK(job == "worker", "flags", "--job_name=", job,
            ": every rank is a worker (gradients are allreduced; there are no parameter servers)");
  MOX_CHECK(f.get_string("ps_hosts").empty(), "flags", "--ps_hosts=", f.get_string("ps_hosts"),
            ": Mox has no parameter servers; start the workers with mpirun and leave --ps_hosts out");
  MOX_CHECK(f.get_float("bucket_mb") > 0, "flags", "--bucket_mb must be positive, got ", f.get_float("bucket_mb"));
  MOX_CHECK(f.get_integer("ranks_per_node") >= 0, "flags", "--ranks_per_node must not be negative");
  std::vector<std::string> hosts = split_hosts(f.get_string("worker_hosts"));
  long long task = f.get_integer("task_index");
  dist::LaunchInfo info = dist::launch_info();
  if (info.size <= 1) {
    MOX_CHECK(hosts.size() <= 1, "flags", "--worker_hosts lists ", hosts.size(),
              " hosts, but this process is a job of one rank: start all workers as one job, e.g. mpirun -np ",
              hosts.size(), " -H ", f.get_string("worker_hosts"), " mox train ...");
    MOX_CHECK(task == 0, "flags", "--task_index=", task, " but this process is a job of one rank (index 0)");
    return nullptr;
  }
  DataParallelOptions o;
  o.variable_update = f.get_string("variable_update");
  o.allreduce = f.get_string("allreduce");
  o.bucket_bytes = int64_t(f.get_float("bucket_mb") * 1024 * 1024);
  o.gpu = f.get_integer("num_gpus") == 1;
  o.ranks_per_node = int(f.get_integer("ranks_per_node"));
  if (!hosts.empty() || f.is_set("task_index")) {
    dist::init_mpi();
    dist::HierarchicalCommunicator place(MPI_COMM_WORLD, {}, o.ranks_per_node);
    MOX_CHECK(hosts.empty() || int(hosts.size()) == place.nodes(), "flags", "--worker_hosts lists ", hosts.size(),
              " hosts but the mpirun job spans ", place.nodes(), " node(s)");
    MOX_CHECK(!f.is_set("task_index") || task == place.node(), "flags", "--task_index=", task, " but rank ", info.rank, " runs on node ",
              place.node(), " of the mpirun job");
  }
  return DataParallel::world(o);
}

void abort_job_on_error(const std::string& program, const std::string& message, int code) {
  dist::LaunchInfo info = dist::launch_info();
  if (info.size <= 1) return;
  std::cerr << program << ": rank " << info.rank << " of " << info.size << " failed: " << message << "\n"
            << program << ": stopping every rank of the job" << std::endl;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI not running: mpirun sees this rank exit and stops the others
}

}  // namespace mox
