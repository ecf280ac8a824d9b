// Input checks the zoo's networks share, so a wrong image batch fails with the model's name and
// the shape it expects instead of a shape error deep inside a layer.
#pragma once
#include <string>

#include "zoo/zoo.h"

namespace mox::zoo {

// Fixed-size networks (dense layers sized for one image size): images must be
// [N, channels, height, width].
void check_image_input(const std::string& model, const Tensor& images, int64_t channels,
                       int64_t height, int64_t width);
// Networks that pool to any size: images must be [N, channels, H, W] with H, W >= min_size.
void check_min_image_input(const std::string& model, const Tensor& images, int64_t channels,
                           int64_t min_size);
// The image size a fixed-size network is built for: size, unless the options ask for another
// (image_height / image_width), which raises mox::ShapeError naming the model.
int64_t fixed_image_size(const std::string& model, const NetOptions& options, int64_t size);

}  // namespace mox::zoo
