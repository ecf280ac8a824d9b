// The global Philox generator behind the random factories (core/ops/random.cpp) and dropout
// (core/ops/norm.cpp). Its state is {seed, offset}: manual_seed sets the seed and zeroes the
// offset, and every draw reserves a block of counters by advancing the offset under a mutex,
// so concurrent draws never share counters.
#pragma once
#include "kernels/random.h"

namespace mox {

// Reserves `counters` counters: returns the seed and the first offset of the block, and
// advances the offset past it.
PhiloxArgs reserve_philox(int64_t counters);
// The current state, without reserving anything.
PhiloxArgs philox_state();

}  // namespace mox
