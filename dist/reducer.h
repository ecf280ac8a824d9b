// Gradient bucketing for data-parallel training (the shape of PyTorch DDP's reducer and
// flashlight's CoalescingReducer): parameters are packed, in reverse order (the order backward
// produces their gradients), into fusion buffers of at most bucket_bytes. The accumulate-grad
// hook of each parameter copies its gradient into its bucket; when a bucket is full it is
// handed to a communication thread that allreduces it while backward goes on computing the
// gradients of earlier layers. Buckets start strictly in order, so every rank issues the same
// collectives in the same order. finish() waits for them and writes the sums back into .grad.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dist/communicator.h"

namespace mox::dist {

struct BucketOptions {
  int64_t bucket_bytes = 25 << 20;  // MoXing / Horovod's default fusion buffer
  bool overlap = true;              // false: reduce every bucket after backward ends
};

class GradientReducer {
 public:
  using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
  GradientReducer(std::shared_ptr<Communicator> comm, NamedTensors params, BucketOptions o = {});
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before a backward pass: this rank's gradients enter the sum scaled by weight (its share
  // of the global batch, 1/size for equal shards), so the result is the global batch's mean.
  void prepare(double weight);
  // After the backward pass: the reduced gradient is in every parameter's .grad. A parameter
  // whose gradient was never produced contributes zeros; one whose hook ran more than once in
  // the pass (several backward calls) makes every bucket be packed again from .grad.
  void finish();

  // Parameter names per bucket, in launch order.
  std::vector<std::vector<std::string>> buckets() const;

  struct State;

 private:
  std::shared_ptr<State> st_;
};

}  // namespace mox::dist
