// The MPI backend on host (CPU) buffers. Allreduce runs either MPI_Allreduce or Mox's ring
// (dist/ring_allreduce.h), chosen by AllreduceAlgo. Broadcast and reduce are nonblocking
// collectives waited on with the ring's deadline (MOX_DIST_TIMEOUT), so a rank that hangs is
// reported rather than waited for. Every MPI call goes through one mutex, so
// the gradient reducer's communication thread and the training thread never call MPI at the
// same time (MPI_THREAD_SERIALIZED is all this asks of the library).
#pragma once
#include <mpi.h>

#include <mutex>

#include "dist/communicator.h"
#include "dist/ring_allreduce.h"

namespace mox::dist {

enum class AllreduceAlgo { mpi, ring };
AllreduceAlgo parse_allreduce_algo(const std::string& name);  // "mpi" or "ring"
const char* algo_name(AllreduceAlgo algo);

struct MpiOptions {
  AllreduceAlgo algo = AllreduceAlgo::ring;
  RingOptions ring;
};

// Starts MPI once per process (MPI_Init_thread, serialized) and finalizes it at exit. Safe to
// call many times.
void init_mpi();

class MpiCommunicator : public Communicator {
 public:
  // Works on a duplicate of comm, so its messages never meet the caller's.
  explicit MpiCommunicator(MPI_Comm comm, MpiOptions o = {});
  ~MpiCommunicator() override;
  // All ranks of the job (calls init_mpi).
  static std::shared_ptr<MpiCommunicator> world(MpiOptions o = {});

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override;
  Device device() const override { return Device::cpu(); }
  void allreduce(Tensor& t, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& t, int root = 0) override;
  Tensor allgather(const Tensor& t) override;
  void barrier() override;

  // Sums into recv on root only (recv may be send; other ranks' recv is untouched).
  void reduce(Tensor& t, int root);
  MPI_Comm comm() const { return comm_; }
  const MpiOptions& options() const { return o_; }

 private:
  void check_host(const Tensor& t, const char* op) const;
  MPI_Comm comm_ = MPI_COMM_NULL;
  MpiOptions o_;
  int rank_ = 0, size_ = 1;
  double timeout_s_ = 0;  // for the waits on nonblocking collectives
  mutable std::mutex mu_;
};

}  // namespace mox::dist
