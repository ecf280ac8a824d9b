// The NCCL backend on CUDA buffers: one rank per GPU, the NCCL unique id handed out by rank 0
// over MPI. Collectives run on the communicator's own stream after the work already queued on
// the default stream (an event orders them), and return when they are complete, so the caller
// may read the result at once. Built only with MOX_CUDA (MOX_WITH_NCCL is then defined).
#pragma once
#include <mpi.h>

#include "dist/communicator.h"

namespace mox::dist {

class NcclCommunicator : public Communicator {
 public:
  // All ranks of comm; this rank drives CUDA device `device`.
  NcclCommunicator(MPI_Comm comm, int device);
  ~NcclCommunicator() override;
  // All ranks of the job, each on GPU (node-local rank % GPUs on the node).
  static std::shared_ptr<NcclCommunicator> world();

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  Device device() const override { return Device::cuda(device_); }
  void allreduce(Tensor& t, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& t, int root = 0) override;
  Tensor allgather(const Tensor& t) override;
  void barrier() override;

  struct Impl;

 private:
  void check_device(const Tensor& t, const char* op) const;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1, device_ = 0;
};

}  // namespace mox::dist
