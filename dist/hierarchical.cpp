#include "dist/hierarchical.h"

#include "dist/mpi_util.h"

namespace mox::dist {

HierarchicalCommunicator::HierarchicalCommunicator(MPI_Comm comm, MpiOptions o, int ranks_per_node) {
  all_ = std::make_shared<MpiCommunicator>(comm, o);
  MOX_CHECK_T(DistError, ranks_per_node >= 0, "replicated_host", "ranks_per_node must not be negative, got ",
              ranks_per_node);
  MPI_Comm local = MPI_COMM_NULL, leaders = MPI_COMM_NULL;
  if (ranks_per_node > 0)
    detail::mpi_check(MPI_Comm_split(all_->comm(), all_->rank() / ranks_per_node, all_->rank(), &local),
                      "replicated_host: MPI_Comm_split");
  else
    detail::mpi_check(MPI_Comm_split_type(all_->comm(), MPI_COMM_TYPE_SHARED, all_->rank(), MPI_INFO_NULL, &local),
                      "replicated_host: MPI_Comm_split_type");
  int local_rank = 0;
  MPI_Comm_rank(local, &local_rank);
  detail::mpi_check(MPI_Comm_split(all_->comm(), local_rank == 0 ? 0 : MPI_UNDEFINED, all_->rank(), &leaders),
                    "replicated_host: MPI_Comm_split");
  local_ = std::make_shared<MpiCommunicator>(local, o);
  MPI_Comm_free(&local);
  if (leaders != MPI_COMM_NULL) {
    leaders_ = std::make_shared<MpiCommunicator>(leaders, o);
    MPI_Comm_free(&leaders);
  }
  // Every rank learns the node count and its node's index from its leader.
  Tensor place = tensor({double(leaders_ ? leaders_->rank() : 0), double(leaders_ ? leaders_->size() : 0)},
                        opts(DType::i64));
  local_->broadcast(place, 0);
  std::vector<double> v = place.tolist();
  node_ = int(v[0]);
  nodes_ = int(v[1]);
}

std::string HierarchicalCommunicator::backend() const {
  return "hierarchical(" + std::to_string(nodes_) + " nodes, " + all_->backend() + ")";
}

void HierarchicalCommunicator::allreduce(Tensor& t, ReduceOp op) {
  local_->reduce(t, 0);
  if (leaders_) leaders_->allreduce(t, ReduceOp::sum);
  local_->broadcast(t, 0);
  if (op == ReduceOp::mean && size() > 1) t.mul_(1.0 / double(size()));
}

}  // namespace mox::dist
