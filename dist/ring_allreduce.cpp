#include "dist/ring_allreduce.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "dist/mpi_util.h"

namespace mox::dist {
namespace {

template <class T>
void add_into(void* dst, const void* src, int64_t n) {
  T* d = static_cast<T*>(dst);
  const T* s = static_cast<const T*>(src);
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

using AddFn = void (*)(void*, const void*, int64_t);

AddFn adder(DType dtype) {
  switch (dtype) {
    case DType::f32: return add_into<float>;
    case DType::f64: return add_into<double>;
    case DType::i32: return add_into<int32_t>;
    case DType::i64: return add_into<int64_t>;
    default: break;
  }
  throw DistError(std::string("ring allreduce: cannot sum dtype ") + dtype_name(dtype) +
                  " (f32, f64, i32 and i64 are supported)");
}

// Messages carry their step as tag: within a step they are sent and received in chunk order,
// across steps they may interleave.
constexpr int kTagBase = 7000;

// The buffer cut into N segments (one per rank, sizes differing by at most one element), each
// cut into C chunks of at most `ce` elements. Step s of 2(N-1): a rank sends segment (r-s) and
// receives segment (r-s-1) (mod N); the first N-1 steps add what arrives (reduce-scatter), the
// rest copy it (all-gather). Unit u = s*C + k is chunk k of step s.
struct Ring {
  int64_t count, n, ce, chunks;
  int rank;
  int64_t seg_begin(int64_t seg) const { return count * seg / n; }
  int64_t mod(int64_t x) const { return ((x % n) + n) % n; }
  // [begin, end) of chunk k of the segment step s sends (send) or receives (!send).
  std::pair<int64_t, int64_t> chunk(int64_t s, int64_t k, bool send) const {
    int64_t seg = mod(rank - s - (send ? 0 : 1));
    int64_t b = seg_begin(seg) + k * ce, e = seg_begin(seg + 1);
    return {std::min(b, e), std::min(b + ce, e)};
  }
};

}  // namespace

void ring_allreduce(MPI_Comm comm, void* data, int64_t count, DType dtype, const RingOptions& o) {
  int rank = 0, size = 1;
  detail::mpi_check(MPI_Comm_rank(comm, &rank), "ring allreduce");
  detail::mpi_check(MPI_Comm_size(comm, &size), "ring allreduce");
  AddFn add = adder(dtype);
  MOX_CHECK_T(DistError, count >= 0 && o.chunk_bytes > 0 && o.window > 0, "ring allreduce",
              "bad arguments: count ", count, ", chunk_bytes ", o.chunk_bytes, ", window ", o.window);
  if (size == 1 || count == 0) return;
  const double timeout_s = o.timeout_s > 0 ? o.timeout_s : detail::default_timeout_s();
  const int64_t esize = int64_t(dtype_size(dtype));
  Ring ring{count, size, std::max<int64_t>(1, o.chunk_bytes / esize), 0, rank};
  ring.chunks = std::max<int64_t>(1, ((count + size - 1) / size + ring.ce - 1) / ring.ce);
  const int64_t steps = 2 * (int64_t(size) - 1), units = steps * ring.chunks;
  const int right = (rank + 1) % size, left = (rank + size - 1) % size;
  const MPI_Datatype type = detail::mpi_type(dtype);
  char* base = static_cast<char*>(data);
  const int64_t window = std::min<int64_t>(o.window, units);
  std::vector<char> staging(size_t(window * ring.ce * esize));
  std::vector<MPI_Request> sends(size_t(units), MPI_REQUEST_NULL), recvs(size_t(units), MPI_REQUEST_NULL);

  std::vector<char> sent(size_t(units), 0);  // MPI_Wait resets a request to NULL: remember posting
  auto post_send = [&](int64_t u) {
    sent[size_t(u)] = 1;
    int64_t s = u / ring.chunks;
    auto [b, e] = ring.chunk(s, u % ring.chunks, true);
    detail::mpi_check(MPI_Isend(base + b * esize, int(e - b), type, right, kTagBase + int(s), comm, &sends[size_t(u)]),
                      "ring allreduce: send");
  };
  auto staging_of = [&](int64_t u) { return staging.data() + (u % window) * ring.ce * esize; };
  // Receives run up to `window` units ahead. One into the buffer (all-gather, step s >= N-1)
  // is posted only after the send that reads that region (step s+1-N, same chunk) was posted,
  // and waits for it to complete before the region is overwritten.
  int64_t next_recv = 0;
  auto post_recvs = [&](int64_t limit) {
    for (; next_recv < std::min(limit, units); ++next_recv) {
      int64_t u = next_recv, s = u / ring.chunks, k = u % ring.chunks;
      auto [b, e] = ring.chunk(s, k, false);
      char* dst = staging_of(u);
      if (s >= size - 1) {
        MPI_Request& reader = sends[size_t((s + 1 - size) * ring.chunks + k)];
        if (reader == MPI_REQUEST_NULL && !sent[size_t((s + 1 - size) * ring.chunks + k)]) return;
        detail::wait(reader, timeout_s, "ring allreduce: send", rank, right);
        dst = base + b * esize;
      }
      detail::mpi_check(MPI_Irecv(dst, int(e - b), type, left, kTagBase + int(s), comm, &recvs[size_t(u)]),
                        "ring allreduce: receive");
    }
  };

  // Step 0 sends run `window` chunks ahead of this rank's receives (more would only queue up
  // as unexpected messages at the neighbour, whose matching slows down with their number).
  for (int64_t k = 0; k < std::min(window, ring.chunks); ++k) post_send(k);
  post_recvs(window);
  for (int64_t u = 0; u < units; ++u) {
    post_recvs(u + 1);  // unit u itself is always postable: its reader send came from unit u-N*C
    detail::wait(recvs[size_t(u)], timeout_s, "ring allreduce", rank, left);
    int64_t s = u / ring.chunks;
    if (s < size - 1) {
      auto [b, e] = ring.chunk(s, u % ring.chunks, false);
      add(base + b * esize, staging_of(u), e - b);
    }
    if (s + 1 < steps) post_send(u + ring.chunks);
    if (u + window < ring.chunks) post_send(u + window);
    post_recvs(u + 1 + window);
  }
  for (auto& req : sends) detail::wait(req, timeout_s, "ring allreduce: send", rank, right);
}

}  // namespace mox::dist
