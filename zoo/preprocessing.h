// Image preprocessing by model name, as the manual's get_data_augmentation_fn (TF-slim's
// preprocessing_factory): the name picks a family (PreprocessingKeys), the family a function
// that takes one image [height, width, channels] (u8 or f32 pixel values in [0, 255], 1 or 3
// channels) and returns f32 [channels, output_height, output_width] ready for the network.
//
//   auto augment = zoo::get_data_augmentation_fn("mobilenet_v2", ModeKeys::TRAIN, 224, 224);
//   Tensor chw = augment(image);   // image: u8 [H, W, 3]
//
// Families (TRAIN / EVAL and PREDICT):
//   vgg_preprocessing        random smaller side in [256, 512], random crop, flip / smaller side
//                            256, central crop; then minus the ImageNet RGB means (3 channels).
//   inception_preprocessing  random box (area 5-100%, aspect 3/4-4/3), bilinear resize, flip,
//                            colour distortion (brightness, saturation, hue, contrast in one of
//                            four orders) / central 87.5% crop, bilinear resize; then [-1, 1].
//   cifarnet_preprocessing   pad 4, random crop, flip, brightness, contrast / central crop or
//                            pad; then per-image standardization.
//   lenet_preprocessing      central crop or pad; then (x - 128) / 128.
// Random draws come from Mox's generator (manual_seed makes them reproducible).
#pragma once
#include <functional>
#include <string>

#include "core/tensor.h"
#include "nn/run/run.h"

namespace mox::zoo {

using DataAugmentationFn = std::function<Tensor(const Tensor& image)>;

// The PreprocessingKeys family of a model name ("vgg_preprocessing", ...). Unknown names raise
// mox::Error listing the known ones.
std::string preprocessing_name(const std::string& model_name);

// output_height / output_width 0: the model's default_image_size (network keys only).
// pvanet's family is listed by the manual but not implemented: it raises mox::Error.
DataAugmentationFn get_data_augmentation_fn(const std::string& name, ModeKeys run_mode,
                                            int64_t output_height = 0, int64_t output_width = 0);

}  // namespace mox::zoo
