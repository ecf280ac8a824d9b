// Mox's own allreduce over MPI point-to-point messages: the bandwidth-optimal ring
// (reduce-scatter, then all-gather; each rank sends 2(N-1)/N of the buffer), chunked and
// pipelined so a chunk moves on to the next rank as soon as it is reduced, for any element
// count and any rank count (segments differ by at most one element; empty ones are allowed).
// Measured against MPI_Allreduce by bench/bench_allreduce.
#pragma once
#include <mpi.h>

#include <cstdint>

#include "core/tensor.h"

namespace mox::dist {

struct RingOptions {
  int64_t chunk_bytes = 256 << 10;  // message size of the pipeline (bench_allreduce --chunk_kb)
  int window = 4;                 // receives in flight (and staging buffers)
  double timeout_s = 0;           // a silent neighbour's DistError; 0: MOX_DIST_TIMEOUT or 300 s
};

// Sums count elements of dtype (f32, f64, i32, i64) at data over every rank of comm, in place.
void ring_allreduce(MPI_Comm comm, void* data, int64_t count, DType dtype, const RingOptions& o);

}  // namespace mox::dist
