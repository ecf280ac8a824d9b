#include "dist/mpi_communicator.h"

#include <cstdlib>

#include "dist/mpi_util.h"

namespace mox::dist {

using detail::mpi_check;
using detail::mpi_type;

AllreduceAlgo parse_allreduce_algo(const std::string& name) {
  if (name == "mpi") return AllreduceAlgo::mpi;
  if (name == "ring") return AllreduceAlgo::ring;
  throw DistError("dist: unknown allreduce algorithm '" + name + "' (known: ring, mpi)");
}

const char* algo_name(AllreduceAlgo algo) { return algo == AllreduceAlgo::mpi ? "mpi" : "ring"; }

LaunchInfo launch_info() {
  auto read = [](const char* a, const char* b) -> const char* {
    const char* v = std::getenv(a);
    return v ? v : std::getenv(b);
  };
  LaunchInfo info;
  const char* rank = read("OMPI_COMM_WORLD_RANK", "PMI_RANK");
  const char* size = read("OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
  if (rank && size) {
    info.rank = std::atoi(rank);
    info.size = std::atoi(size);
    info.under_mpirun = true;
  }
  return info;
}

void init_mpi() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return;
  int provided = 0;
  mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  MOX_CHECK_T(DistError, provided >= MPI_THREAD_SERIALIZED, "MPI_Init_thread",
              "the MPI library gives thread level ", provided, ", Mox needs MPI_THREAD_SERIALIZED");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::atexit([] {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
  });
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, MpiOptions o) : o_(o) {
  timeout_s_ = o.ring.timeout_s > 0 ? o.ring.timeout_s : detail::default_timeout_s();
  mpi_check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::shared_ptr<MpiCommunicator> MpiCommunicator::world(MpiOptions o) {
  init_mpi();
  return std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, o);
}

std::string MpiCommunicator::backend() const { return std::string("mpi/") + algo_name(o_.algo); }

void MpiCommunicator::check_host(const Tensor& t, const char* op) const {
  MOX_CHECK_T(DistError, t.defined() && t.device().is_cpu() && t.is_contiguous(), op,
              "the MPI backend works on contiguous CPU tensors, got ", t.defined() ? t.str() : "an undefined tensor");
}

void MpiCommunicator::allreduce(Tensor& t, ReduceOp op) {
  check_host(t, "allreduce");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (o_.algo == AllreduceAlgo::ring) {
      ring_allreduce(comm_, t.raw_data(), t.numel(), t.dtype(), o_.ring);
    } else {
      MOX_CHECK_T(DistError, t.dtype() != DType::f16 && t.dtype() != DType::bf16 && t.dtype() != DType::boolean,
                  "allreduce", "cannot sum dtype ", dtype_name(t.dtype()));
      MOX_CHECK_T(DistError, t.numel() <= INT32_MAX, "allreduce", "MPI_Allreduce takes at most 2^31-1 elements, got ", t.numel());
      mpi_check(MPI_Allreduce(MPI_IN_PLACE, t.raw_data(), int(t.numel()), mpi_type(t.dtype()), MPI_SUM, comm_),
                "MPI_Allreduce");
    }
  }
  if (op == ReduceOp::mean && size_ > 1) t.mul_(1.0 / double(size_));
}

void MpiCommunicator::reduce(Tensor& t, int root) {
  check_host(t, "reduce");
  std::lock_guard<std::mutex> lock(mu_);
  void* send = rank_ == root ? MPI_IN_PLACE : t.raw_data();
  MPI_Request req;
  mpi_check(MPI_Ireduce(send, t.raw_data(), int(t.numel()), mpi_type(t.dtype()), MPI_SUM, root, comm_, &req),
            "MPI_Ireduce");
  detail::wait(req, timeout_s_, "MPI_Ireduce", rank_, -1);
}

void MpiCommunicator::broadcast(Tensor& t, int root) {
  check_host(t, "broadcast");
  MOX_CHECK_T(DistError, root >= 0 && root < size_, "broadcast", "root ", root, " is not a rank of ", size_);
  std::lock_guard<std::mutex> lock(mu_);
  MPI_Request req;
  mpi_check(MPI_Ibcast(t.raw_data(), int(t.numel()), mpi_type(t.dtype()), root, comm_, &req), "MPI_Ibcast");
  detail::wait(req, timeout_s_, "MPI_Ibcast", rank_, root);
}

Tensor MpiCommunicator::allgather(const Tensor& t) {
  check_host(t, "allgather");
  Shape shape = t.sizes();
  shape.insert(shape.begin(), size_);
  Tensor out = empty(shape, opts(t.dtype()));
  std::lock_guard<std::mutex> lock(mu_);
  MPI_Datatype type = mpi_type(t.dtype());
  mpi_check(MPI_Allgather(t.raw_data(), int(t.numel()), type, out.raw_data(), int(t.numel()), type, comm_),
            "MPI_Allgather");
  return out;
}

void MpiCommunicator::barrier() {
  std::lock_guard<std::mutex> lock(mu_);
  mpi_check(MPI_Barrier(comm_), "MPI_Barrier");
}

}  // namespace mox::dist
