// Writes labelled images out as an ImageClassificationRaw folder (base_dir/<label>/<n>.<ext>
// plus labels.txt): how tests, benchmarks and users turn array datasets such as Fashion-MNIST
// into image files.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mox::data {

// Fashion-MNIST's class names, by label ('/' of "T-shirt/top" replaced, as it is a folder name).
const std::vector<std::string>& fashion_mnist_classes();

// images: u8 [N, H, W] or [N, H, W, C]; labels: [N] integer class indices into label_names.
// format: "png" or "jpg". Writes the first `count` images (all when < 0) and returns how many
// bytes the image files take.
int64_t write_image_folder(const Tensor& images, const Tensor& labels, const std::vector<std::string>& label_names,
                           const std::string& dir, const std::string& format, int64_t count = -1);

}  // namespace mox::data
