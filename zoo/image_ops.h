// The image operations preprocessing uses, as plain loops over an f32 HWC buffer (outside
// autograd: preprocessing runs in the input pipeline, one image at a time). Geometry follows
// TensorFlow's tf.image functions of the same names; colour operations take values in [0, 1]
// for the HSV ones (saturation, hue) and any range for the others.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace mox::zoo::image {

struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<float> pixels;  // [height][width][channels]

  Image() = default;
  Image(int64_t h, int64_t w, int64_t c) : height(h), width(w), channels(c), pixels(h * w * c) {}
  float& at(int64_t y, int64_t x, int64_t c) { return pixels[(y * width + x) * channels + c]; }
  float at(int64_t y, int64_t x, int64_t c) const {
    return pixels[(y * width + x) * channels + c];
  }
};

// A u8 or f32 [height, width, channels] tensor (channels 1 or 3) as an Image of its pixel
// values; op names the caller in errors.
Image from_tensor(const Tensor& image, const char* op);
// f32 [channels, height, width].
Tensor to_chw_tensor(const Image& image);

Image crop(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width);
// Zeros around: top/bottom rows, left/right columns.
Image pad(const Image& image, int64_t top, int64_t bottom, int64_t left, int64_t right);
// tf.image.resize_image_with_crop_or_pad: central crop where larger, central zero pad where
// smaller.
Image crop_or_pad(const Image& image, int64_t height, int64_t width);
// tf.image.central_crop: the central fraction of each side.
Image central_crop(const Image& image, double fraction);
// Bilinear with half-pixel centers (TF2's tf.image.resize, PyTorch's align_corners=False).
Image resize_bilinear(const Image& image, int64_t height, int64_t width);
// Bilinear resize keeping the aspect ratio so that the smaller side becomes smallest_side.
Image resize_smaller_side(const Image& image, int64_t smallest_side);
void flip_left_right(Image& image);

void adjust_brightness(Image& image, float delta);  // x + delta
// Per channel: (x - mean) * factor + mean, the mean over the image.
void adjust_contrast(Image& image, float factor);
// In HSV (3 channels, values clipped to [0, 1] first): saturation * factor, clipped to [0, 1].
void adjust_saturation(Image& image, float factor);
// In HSV (3 channels, values clipped to [0, 1] first): hue + delta, wrapped (delta in turns).
void adjust_hue(Image& image, float delta);
void clip(Image& image, float lo, float hi);
// tf.image.per_image_standardization: (x - mean) / max(stddev, 1 / sqrt(numel)).
void standardize(Image& image);

}  // namespace mox::zoo::image
