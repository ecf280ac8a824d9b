#include "io/data/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <cstring>
#include <memory>

#include "core/ops.h"

namespace mox::data {

Tensor decode_image(std::string_view bytes, int channels, const std::string& name) {
  MOX_CHECK(channels >= 0 && channels <= 4, "decode_image", "channels must be 0..4, got ", channels);
  MOX_CHECK_T(IOError, !bytes.empty(), "decode_image", name, ": empty file");
  int w = 0, h = 0, c = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &w, &h, &c,
                            channels),
      stbi_image_free);
  MOX_CHECK_T(IOError, px != nullptr, "decode_image", name, ": not a decodable image (",
              stbi_failure_reason() ? stbi_failure_reason() : "unknown reason", ", ", bytes.size(), " bytes)");
  int ch = channels ? channels : c;
  Tensor out = empty({h, w, ch}, opts(DType::u8));
  std::memcpy(out.data_ptr<uint8_t>(), px.get(), size_t(h) * size_t(w) * size_t(ch));
  return out;
}

Tensor resize_nearest(const Tensor& image, int64_t h, int64_t w) {
  MOX_CHECK_T(ShapeError, image.dim() == 3 && image.dtype() == DType::u8, "resize_nearest",
              "needs a u8 [H, W, C] image, got ", image.str());
  MOX_CHECK(h > 0 && w > 0, "resize_nearest", "target size must be positive, got ", h, "x", w);
  int64_t H = image.size(0), W = image.size(1), C = image.size(2);
  if (H == h && W == w) return image;
  Tensor src = image.contiguous();
  Tensor out = empty({h, w, C}, opts(DType::u8));
  const uint8_t* s = src.data_ptr<uint8_t>();
  uint8_t* d = out.data_ptr<uint8_t>();
  for (int64_t y = 0; y < h; ++y) {
    int64_t sy = y * H / h;  // floor of the source position, as TF's NEAREST_NEIGHBOR without align_corners
    for (int64_t x = 0; x < w; ++x) std::memcpy(d + (y * w + x) * C, s + (sy * W + x * W / w) * C, size_t(C));
  }
  return out;
}

namespace {

void append_bytes(void* ctx, void* data, int n) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size_t(n)); }

Tensor checked_image(const Tensor& image, const char* op) {
  MOX_CHECK_T(ShapeError, image.dim() == 3 && image.dtype() == DType::u8 && image.size(2) >= 1 && image.size(2) <= 4,
              op, "needs a u8 [H, W, C] image with 1 to 4 channels, got ", image.str());
  return image.contiguous();
}

}  // namespace

std::string encode_png(const Tensor& image) {
  Tensor img = checked_image(image, "encode_png");
  std::string out;
  int w = int(img.size(1)), c = int(img.size(2));
  int ok = stbi_write_png_to_func(append_bytes, &out, w, int(img.size(0)), c, img.data_ptr<uint8_t>(), w * c);
  MOX_CHECK_T(IOError, ok != 0, "encode_png", "stb_image_write failed for ", img.str());
  return out;
}

std::string encode_jpeg(const Tensor& image, int quality) {
  Tensor img = checked_image(image, "encode_jpeg");
  MOX_CHECK(quality >= 1 && quality <= 100, "encode_jpeg", "quality must be 1..100, got ", quality);
  std::string out;
  int ok = stbi_write_jpg_to_func(append_bytes, &out, int(img.size(1)), int(img.size(0)), int(img.size(2)),
                                  img.data_ptr<uint8_t>(), quality);
  MOX_CHECK_T(IOError, ok != 0, "encode_jpeg", "stb_image_write failed for ", img.str());
  return out;
}

Tensor to_nchw_float(const Tensor& images) {
  MOX_CHECK_T(ShapeError, images.dim() == 4 && images.dtype() == DType::u8, "to_nchw_float",
              "needs u8 [B, H, W, C] images, got ", images.str());
  return mul(images.to(DType::f32), 1.0 / 255).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace mox::data
