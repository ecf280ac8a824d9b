// Reader for the MNIST idx format (optionally gzip-compressed, as the `*-ubyte.gz` files that
// MNIST and Fashion-MNIST ship), e.g. Debian's dataset-fashion-mnist package, from a local path
// or an s3:// URL (io/data/storage.h).
#pragma once
#include <string>

#include "core/tensor.h"

namespace mox::data {

// Where Debian's dataset-fashion-mnist package installs its files.
inline const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads an idx file (path or URL; gzip-compressed or not): u8 data with its dims (e.g. [60000, 28, 28] images, [60000] labels).
// Throws mox::IOError naming the file when it is missing, truncated or not idx.
Tensor read_idx(const std::string& path);

struct MnistSplit {
  Tensor images;  // [N, 1, 28, 28] f32 in [0, 1]
  Tensor labels;  // [N] i64
};
// split: "train" or "t10k". Checks that every file is present before reading any.
MnistSplit load_mnist(const std::string& dir, const std::string& split);

}  // namespace mox::data
