// The NCCL backend on a real GPU (suite "gpu"): a one-rank communicator over MPI_COMM_SELF
// runs every collective on device tensors. Skips without CUDA devices or in builds without
// CUDA (no NCCL backend then).
#include "tests/support/check.h"
#ifdef MOX_WITH_NCCL
#include "core/allocator.h"
#include "dist/mpi_communicator.h"
#include "dist/nccl_communicator.h"
#endif

namespace mox::test {

TEST_SUITE("gpu") {

TEST_CASE("nccl communicator runs allreduce broadcast and allgather on device tensors") {
#ifndef MOX_WITH_NCCL
  MESSAGE("skipped: built without CUDA, so without the NCCL backend");
#else
  if (device_count(DeviceType::CUDA) == 0) {
    MESSAGE("skipped: no CUDA device");
    return;
  }
  dist::init_mpi();
  dist::NcclCommunicator comm(MPI_COMM_SELF, 0);
  CHECK(comm.size() == 1);
  Tensor x = arange(10, opts(DType::f32)).to(Device::cuda(0));
  comm.allreduce(x, dist::ReduceOp::sum);
  CHECK_ALLCLOSE(x.to(Device::cpu()), arange(10, opts(DType::f32)), tolerance_for(DType::f32));
  comm.allreduce(x, dist::ReduceOp::mean);
  CHECK_ALLCLOSE(x.to(Device::cpu()), arange(10, opts(DType::f32)), tolerance_for(DType::f32));
  comm.broadcast(x, 0);
  Tensor g = comm.allgather(x);
  CHECK(g.sizes() == Shape{1, 10});
  comm.barrier();
  std::string msg = thrown<dist::DistError>([&] {
    Tensor host = zeros({3});
    comm.allreduce(host);
  });
  mentions(msg, {"allreduce", "cuda:0", "cpu"});
#endif
}

}  // TEST_SUITE

}  // namespace mox::test
