// The replicated_host strategy's allreduce (MoXing manual §1.4): gradients are summed on each
// node first (MPI_Reduce to the node's first rank over shared memory), the node leaders
// allreduce across nodes on host memory (ring or MPI_Allreduce), and each leader broadcasts
// the result back to its node. One message per node crosses the network instead of one per
// rank. Nodes are found with MPI_Comm_split_type(SHARED), or ranks_per_node consecutive
// ranks form a "node" (to exercise both levels on one machine).
#pragma once
#include "dist/mpi_communicator.h"

namespace mox::dist {

class HierarchicalCommunicator : public Communicator {
 public:
  // ranks_per_node 0: the shared-memory nodes MPI reports.
  HierarchicalCommunicator(MPI_Comm comm, MpiOptions o, int ranks_per_node = 0);

  int rank() const override { return all_->rank(); }
  int size() const override { return all_->size(); }
  std::string backend() const override;
  Device device() const override { return Device::cpu(); }
  void allreduce(Tensor& t, ReduceOp op = ReduceOp::sum) override;
  void broadcast(Tensor& t, int root = 0) override { all_->broadcast(t, root); }
  Tensor allgather(const Tensor& t) override { return all_->allgather(t); }
  void barrier() override { all_->barrier(); }

  int nodes() const { return nodes_; }
  int node() const { return node_; }

 private:
  std::shared_ptr<MpiCommunicator> all_, local_, leaders_;  // leaders_: null off the leaders
  int nodes_ = 1, node_ = 0;
};

}  // namespace mox::dist
