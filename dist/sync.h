// Start-up of data-parallel training: every rank must hold the same model (names, shapes and
// dtypes of parameters and buffers), and all ranks start from rank 0's values.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"

namespace mox::dist {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Throws DistError on every rank unless every rank's tensors have the same names, shapes and
// dtypes, in the same order, as rank 0's. The message names the ranks that differ and, on
// those ranks, the first differing tensor. `what` names the set ("parameters", "buffers").
void check_same_tensors(Communicator& comm, const NamedTensors& tensors, const std::string& what);

// Overwrites every rank's tensors (in place) with root's. Tensors on another device than the
// communicator's travel through a copy there.
void broadcast_tensors(Communicator& comm, const NamedTensors& tensors, int root = 0);

}  // namespace mox::dist
