#include "dist/mpi_util.h"

#include <sched.h>

#include <chrono>
#include <cstdlib>

namespace mox::dist::detail {

void mpi_check(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw DistError(what + ": " + std::string(msg, size_t(len)));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return MPI_FLOAT;
    case DType::f64: return MPI_DOUBLE;
    case DType::i32: return MPI_INT32_T;
    case DType::i64: return MPI_INT64_T;
    case DType::u8:
    case DType::boolean: return MPI_UINT8_T;
    case DType::f16:
    case DType::bf16: return MPI_UINT16_T;
  }
  throw DistError("mpi: unknown dtype");
}

void wait(MPI_Request& req, double timeout_s, const char* what, int rank, int peer) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  for (int spins = 0;; ++spins) {
    int done = 0;
    mpi_check(MPI_Test(&req, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    if (spins < 1000) continue;
    sched_yield();
    if ((spins & 1023) == 0 && std::chrono::duration<double>(Clock::now() - start).count() > timeout_s)
      throw DistError(std::string(what) + ": rank " + std::to_string(rank) + " waited " +
                      std::to_string(int(timeout_s)) + " s for " +
                      (peer >= 0 ? "rank " + std::to_string(peer) : std::string("another rank")) +
                      ", which stopped answering (a rank that hangs, or one further along the ring; "
                      "the timeout is MOX_DIST_TIMEOUT seconds)");
  }
}

double default_timeout_s() {
  const char* v = std::getenv("MOX_DIST_TIMEOUT");
  if (!v || !*v) return 300;
  char* end = nullptr;
  double s = std::strtod(v, &end);
  MOX_CHECK_T(DistError, end && *end == '\0' && s > 0, "dist", "MOX_DIST_TIMEOUT must be a positive number of seconds, got '", v, "'");
  return s;
}

}  // namespace mox::dist::detail
