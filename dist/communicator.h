// The collective operations data-parallel training needs, behind one interface: MPI on host
// buffers (dist/mpi_communicator.h, with two allreduce algorithms), NCCL on device buffers
// (dist/nccl_communicator.h, built with CUDA) and the two-level host strategy
// (dist/hierarchical.h). Every operation works in place on a contiguous tensor and is
// collective: all ranks call it in the same order with tensors of the same shape and dtype.
#pragma once
#include <memory>
#include <string>

#include "core/tensor.h"

namespace mox::dist {

// A failure of a collective: a peer that stopped answering, a transport error, ranks that
// disagree. The message names the rank(s) involved.
class DistError : public Error {
  using Error::Error;
};

enum class ReduceOp { sum, mean };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi/ring", "mpi/mpi", "nccl", "hierarchical(...)"
  virtual Device device() const = 0;         // where the tensors it takes must live

  // t (contiguous) becomes the sum (or mean) of every rank's t.
  virtual void allreduce(Tensor& t, ReduceOp op = ReduceOp::sum) = 0;
  // t becomes root's t on every rank.
  virtual void broadcast(Tensor& t, int root = 0) = 0;
  // Returns [size, ...t.shape]: row r is rank r's t.
  virtual Tensor allgather(const Tensor& t) = 0;
  virtual void barrier() = 0;
};

// Where this process sits in an mpirun job, read from the environment mpirun sets (Open MPI's
// OMPI_COMM_WORLD_*, or PMI_RANK/PMI_SIZE): {0, 1} when not started by mpirun.
struct LaunchInfo {
  int rank = 0, size = 1;
  bool under_mpirun = false;
};
LaunchInfo launch_info();

}  // namespace mox::dist
