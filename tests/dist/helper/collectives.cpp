// mox_dist_helper collectives: every communicator operation checked on this rank against
// values computed locally in closed form; used by tests/dist/test_mpi.cpp under mpirun.
#include "tests/dist/helper/helper.h"

#include <cmath>
#include <iostream>

#include "dist/hierarchical.h"
#include "dist/mpi_communicator.h"
#include "core/ops.h"
#include "dist/reducer.h"

namespace mox::dist_helper {
using namespace dist;
namespace {

// Rank r's element i; sums over ranks stay exact in f32 (small integers).
double value(int rank, int64_t i) { return double((rank + 1) * (i % 97) + i % 13); }
double expected_sum(int size, int64_t i) {
  return double(size * (size + 1) / 2 * (i % 97) + size * (i % 13));
}

struct Checker {
  int rank, failures = 0, checks = 0;
  void expect(bool ok, const std::string& what) {
    ++checks;
    if (ok) return;
    ++failures;
    if (failures <= 10) std::cerr << "rank " << rank << ": FAILED " << what << std::endl;
  }
};

void check_allreduce(Communicator& comm, Checker& c, int64_t n, DType dtype, ReduceOp op) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = value(comm.rank(), i);
  Tensor t = from_vector(v, {n}, opts(dtype));
  comm.allreduce(t, op);
  std::vector<double> got = t.tolist();
  int64_t bad = -1;
  for (int64_t i = 0; i < n && bad < 0; ++i) {
    double want = expected_sum(comm.size(), i) / (op == ReduceOp::mean ? comm.size() : 1);
    if (dtype == DType::i64 || dtype == DType::i32) want = std::trunc(want);
    if (std::abs(got[size_t(i)] - want) > 1e-6 * std::max(1.0, std::abs(want))) bad = i;
  }
  c.expect(bad < 0, comm.backend() + " allreduce " + (op == ReduceOp::mean ? "mean" : "sum") + " of " +
                        std::to_string(n) + " " + dtype_name(dtype) + " elements: first wrong element " +
                        std::to_string(bad));
}

}  // namespace

int collectives(const Options& o) {
  init_mpi();
  MpiOptions mo;
  mo.ring.chunk_bytes = o.chunk_bytes;
  auto ring = std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, mo);
  mo.algo = AllreduceAlgo::mpi;
  auto flat = std::make_shared<MpiCommunicator>(MPI_COMM_WORLD, mo);
  mo.algo = AllreduceAlgo::ring;
  auto tree = std::make_shared<HierarchicalCommunicator>(MPI_COMM_WORLD, mo, 2);
  const int size = ring->size(), rank = ring->rank();
  Checker c{rank};

  std::vector<int64_t> sizes = {0, 1, 2, 3, 5, 7, 13, 64, 97, 1000, 4099, (1 << 16) + 1, (1 << 17) + 3};
  for (int64_t extra : {int64_t(size) - 1, int64_t(size) + 1, 3 * int64_t(size) + 2}) sizes.push_back(extra);
  for (int64_t n : sizes) {
    for (DType dt : {DType::f32, DType::f64, DType::i64}) check_allreduce(*ring, c, n, dt, ReduceOp::sum);
    check_allreduce(*ring, c, n, DType::f32, ReduceOp::mean);
    check_allreduce(*flat, c, n, DType::f32, ReduceOp::sum);
    check_allreduce(*tree, c, n, DType::f64, ReduceOp::mean);
  }
  c.expect(tree->nodes() == (size + 1) / 2, "hierarchical: " + std::to_string(tree->nodes()) + " nodes of 2 ranks");

  // broadcast from the last rank
  Tensor b = full({5, 3}, double(rank), opts(DType::f32));
  ring->broadcast(b, size - 1);
  c.expect(b.tolist() == std::vector<double>(15, double(size - 1)), "broadcast from the last rank");

  // allgather: row r is rank r's tensor
  Tensor g = ring->allgather(full({2, 2}, double(rank * 10), opts(DType::i64)));
  bool rows_ok = g.sizes() == Shape{size, 2, 2};
  for (int r = 0; rows_ok && r < size; ++r)
    rows_ok = g.narrow(0, r, 1).tolist() == std::vector<double>(4, double(r * 10));
  c.expect(rows_ok, "allgather of [2,2] i64");
  ring->barrier();

  // Bucketed gradients: f(w) = sum(w_k * x_k) per rank, so rank r's grad of w_k is x_k (rank
  // dependent); the reduced grad is the weighted sum. Tiny buckets force several.
  std::vector<std::pair<std::string, Tensor>> params;
  for (int k = 0; k < 4; ++k) params.emplace_back("w" + std::to_string(k), zeros({3 + k}, opts(DType::f32, Device::cpu(), true)));
  GradientReducer reducer(ring, params, {.bucket_bytes = 24, .overlap = true});
  c.expect(reducer.buckets().size() >= 3 && reducer.buckets().front().front() == "w3",
           "reducer: several buckets, last parameter first");
  for (int pass = 0; pass < 2; ++pass) {
    reducer.prepare(1.0 / size);
    Tensor loss = zeros({}, opts(DType::f32));
    for (auto& [name, w] : params) {
      w.zero_grad();
      loss = add(loss, sum(mul(w, full(w.sizes(), double(rank + 1 + pass), opts(DType::f32)))));
    }
    loss.backward();
    reducer.finish();
    double want = (size + 1) / 2.0 + pass;  // mean over ranks of rank + 1 + pass
    for (auto& [name, w] : params) {
      bool ok = true;
      for (double g : w.grad().tolist()) ok = ok && std::abs(g - want) <= 1e-6 * want;  // weights 1/size round
      c.expect(ok, "reducer pass " + std::to_string(pass) + ": mean gradient of " + name);
    }
  }

  std::cout << "rank " << rank << " of " << size << ": " << c.checks << " checks, " << c.failures << " failed"
            << std::endl;
  return c.failures == 0 ? 0 : 1;
}

}  // namespace mox::dist_helper
