// Checkpoints in the safetensors layout (8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw bytes), so other tools can
// read the weights. Writes go to a temporary file that is renamed into place: a crash never
// leaves a half-written checkpoint under the final name.
#pragma once
#include <map>
#include <string>

#include "core/tensor.h"

namespace mox::nn {

struct Checkpoint {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;  // e.g. global_step
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Raises mox::IOError naming the file when it is missing, truncated or malformed.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace mox::nn
