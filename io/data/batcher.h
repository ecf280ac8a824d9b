// Mini-batches from in-memory arrays: every tensor in `arrays` is indexed along dim 0 by the
// same (optionally shuffled) order and cut into batches; a source returns std::nullopt when
// its epochs are used up.
#pragma once
#include <functional>
#include <optional>

#include "core/tensor.h"

namespace mox::data {

using Batch = std::vector<Tensor>;
using BatchSource = std::function<std::optional<Batch>()>;

struct BatchOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;           // shuffle order of epoch e comes from (seed, e)
  int64_t num_epochs = -1;     // -1: repeat forever
  bool drop_remainder = false;
};

BatchSource batches(std::vector<Tensor> arrays, BatchOptions o);

// Copies rows idx[0..n) of a dense CPU tensor [N, ...] into a new tensor [n, ...].
Tensor gather_rows(const Tensor& x, const int64_t* idx, int64_t n);

}  // namespace mox::data
