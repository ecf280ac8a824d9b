// Internal to dist/: MPI error checks, dtype mapping and the waiting loop with a deadline that
// turns a silent peer into a DistError naming it instead of a hang.
#pragma once
#include <mpi.h>

#include <string>

#include "dist/communicator.h"

namespace mox::dist::detail {

// Throws DistError("<what>: <MPI's message>") unless rc is MPI_SUCCESS.
void mpi_check(int rc, const std::string& what);
// The MPI type of one element of dtype; f16/bf16 travel as 16-bit words (broadcast, gather).
MPI_Datatype mpi_type(DType dtype);

// Polls req until it completes. After timeout_s seconds without completion it throws
// DistError naming `what`, this rank and `peer` (the rank whose message never came; -1: unknown,
// for a collective).
// Spins briefly, then yields the core: ranks often share cores with compute threads.
void wait(MPI_Request& req, double timeout_s, const char* what, int rank, int peer);

// Seconds from MOX_DIST_TIMEOUT, else 300.
double default_timeout_s();

}  // namespace mox::dist::detail
