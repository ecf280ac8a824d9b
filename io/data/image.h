// Image files in and out: JPEG/PNG/BMP/GIF decoding with stb_image (Debian's libstb), the
// manual's default nearest-neighbour resize, and PNG/JPEG encoding (stb_image_write) for the
// tools, tests and benchmarks that write images.
#pragma once
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace mox::data {

// u8 [H, W, C]. channels 0 keeps the file's channel count; 1..4 converts. Throws IOError naming
// `name` and stb's reason when the bytes are not a decodable image.
Tensor decode_image(std::string_view bytes, int channels, const std::string& name);

// Nearest-neighbour resize of u8 [H, W, C] to [h, w, C] (what MoXing does without preprocess_fn).
Tensor resize_nearest(const Tensor& image, int64_t h, int64_t w);

// u8 [H, W, C] (C in 1..4) to file bytes.
std::string encode_png(const Tensor& image);
std::string encode_jpeg(const Tensor& image, int quality = 90);

// u8 [B, H, W, C] batch to f32 [B, C, H, W] in [0, 1], the layout the nn layers take.
Tensor to_nchw_float(const Tensor& images);

}  // namespace mox::data
