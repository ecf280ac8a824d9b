#include "zoo/image_ops.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace mox::zoo::image {
namespace {

using Rgb = std::array<float, 3>;

// TensorFlow's rgb_to_hsv: hue in turns [0, 1), saturation and value in [0, 1].
Rgb rgb_to_hsv(Rgb p) {
  const float v = std::max({p[0], p[1], p[2]});
  const float chroma = v - std::min({p[0], p[1], p[2]});
  const float s = v > 0 ? chroma / v : 0;
  float h = 0;
  if (chroma > 0) {
    if (v == p[0]) h = (p[1] - p[2]) / chroma;
    else if (v == p[1]) h = 2 + (p[2] - p[0]) / chroma;
    else h = 4 + (p[0] - p[1]) / chroma;
    h /= 6;
    if (h < 0) h += 1;
  }
  return {h, s, v};
}

Rgb hsv_to_rgb(Rgb hsv) {
  const float h6 = hsv[0] * 6, c = hsv[1] * hsv[2];
  const float x = c * (1 - std::fabs(std::fmod(h6, 2.0f) - 1));
  const float m = hsv[2] - c;
  const int sector = std::min(int(h6), 5);
  static constexpr int kOrder[6][3] = {{0, 1, 2}, {1, 0, 2}, {2, 0, 1},
                                       {2, 1, 0}, {1, 2, 0}, {0, 2, 1}};
  // kOrder[sector] says which of (c, x, 0) each of r, g, b takes.
  const float parts[3] = {c, x, 0};
  return {parts[kOrder[sector][0]] + m, parts[kOrder[sector][1]] + m,
          parts[kOrder[sector][2]] + m};
}

// Applies f to every pixel's (h, s, v); a no-op on single-channel images, which have no hue.
template <class F>
void map_hsv(Image& image, F f) {
  if (image.channels != 3) return;
  for (int64_t i = 0; i < image.height * image.width; ++i) {
    float* p = &image.pixels[i * 3];
    Rgb hsv = rgb_to_hsv({std::clamp(p[0], 0.f, 1.f), std::clamp(p[1], 0.f, 1.f),
                          std::clamp(p[2], 0.f, 1.f)});
    Rgb rgb = hsv_to_rgb(f(hsv));
    std::copy(rgb.begin(), rgb.end(), p);
  }
}

}  // namespace

Image from_tensor(const Tensor& t, const char* op) {
  MOX_CHECK_T(ShapeError, t.dim() == 3, op, "expects one image [height, width, channels], got ",
              t.str());
  MOX_CHECK_T(ShapeError, t.size(2) == 1 || t.size(2) == 3, op,
              "expects 1 or 3 channels (the last dim of [height, width, channels]), got ", t.str());
  MOX_CHECK_T(ShapeError, t.size(0) > 0 && t.size(1) > 0, op, "got an empty image ", t.str());
  MOX_CHECK_T(TypeError, t.dtype() == DType::u8 || t.dtype() == DType::f32, op,
              "expects a u8 or f32 image, got ", t.str());
  MOX_CHECK_T(DeviceError, t.device().is_cpu(), op, "expects a CPU image, got ", t.str());
  Image image(t.size(0), t.size(1), t.size(2));
  Tensor c = t.contiguous();
  if (c.dtype() == DType::u8) {
    const uint8_t* src = c.data_ptr<uint8_t>();
    std::transform(src, src + c.numel(), image.pixels.begin(), [](uint8_t v) { return float(v); });
  } else {
    std::memcpy(image.pixels.data(), c.data_ptr<float>(), image.pixels.size() * sizeof(float));
  }
  return image;
}

Tensor to_chw_tensor(const Image& image) {
  Tensor out = empty({image.channels, image.height, image.width});
  float* dst = out.data_ptr<float>();
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = 0; y < image.height; ++y)
      for (int64_t x = 0; x < image.width; ++x) *dst++ = image.at(y, x, c);
  return out;
}

Image crop(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  MOX_CHECK(top >= 0 && left >= 0 && height > 0 && width > 0 && top + height <= image.height &&
                left + width <= image.width,
            "crop", "box (top ", top, ", left ", left, ", ", height, "x", width,
            ") is not inside the ", image.height, "x", image.width, " image");
  Image out(height, width, image.channels);
  const int64_t row = width * image.channels;
  for (int64_t y = 0; y < height; ++y)
    std::copy_n(&image.pixels[((top + y) * image.width + left) * image.channels], row,
                &out.pixels[y * row]);
  return out;
}

Image pad(const Image& image, int64_t top, int64_t bottom, int64_t left, int64_t right) {
  Image out(image.height + top + bottom, image.width + left + right, image.channels);
  const int64_t row = image.width * image.channels;
  for (int64_t y = 0; y < image.height; ++y)
    std::copy_n(&image.pixels[y * row], row, &out.at(top + y, left, 0));
  return out;
}

Image crop_or_pad(const Image& image, int64_t height, int64_t width) {
  auto fit = [](int64_t from, int64_t to) {  // {crop offset, pad before, pad after}
    int64_t crop = std::max<int64_t>(from - to, 0) / 2, pad = std::max<int64_t>(to - from, 0);
    return std::array<int64_t, 3>{crop, pad / 2, pad - pad / 2};
  };
  auto [cy, top, bottom] = fit(image.height, height);
  auto [cx, left, right] = fit(image.width, width);
  Image cropped = crop(image, cy, cx, std::min(image.height, height), std::min(image.width, width));
  return pad(cropped, top, bottom, left, right);
}

Image central_crop(const Image& image, double fraction) {
  MOX_CHECK(fraction > 0 && fraction <= 1, "central_crop", "fraction must be in (0, 1], got ",
            fraction);
  const int64_t top = int64_t((image.height - image.height * fraction) / 2);
  const int64_t left = int64_t((image.width - image.width * fraction) / 2);
  return crop(image, top, left, image.height - 2 * top, image.width - 2 * left);
}

Image resize_bilinear(const Image& image, int64_t height, int64_t width) {
  MOX_CHECK(height > 0 && width > 0, "resize_bilinear", "output size must be positive, got ",
            height, "x", width);
  Image out(height, width, image.channels);
  // Source coordinate of an output index, with half-pixel centers, clamped to the image.
  auto source = [](int64_t i, int64_t in, int64_t outn, int64_t& i0, int64_t& i1, float& frac) {
    float s = std::max((float(i) + 0.5f) * float(in) / float(outn) - 0.5f, 0.f);
    i0 = std::min(int64_t(s), in - 1);
    i1 = std::min(i0 + 1, in - 1);
    frac = s - float(i0);
  };
  for (int64_t y = 0; y < height; ++y) {
    int64_t y0, y1;
    float fy;
    source(y, image.height, height, y0, y1, fy);
    for (int64_t x = 0; x < width; ++x) {
      int64_t x0, x1;
      float fx;
      source(x, image.width, width, x0, x1, fx);
      for (int64_t c = 0; c < image.channels; ++c) {
        const float top = image.at(y0, x0, c) + (image.at(y0, x1, c) - image.at(y0, x0, c)) * fx;
        const float bot = image.at(y1, x0, c) + (image.at(y1, x1, c) - image.at(y1, x0, c)) * fx;
        out.at(y, x, c) = top + (bot - top) * fy;
      }
    }
  }
  return out;
}

Image resize_smaller_side(const Image& image, int64_t smallest_side) {
  const double scale = double(smallest_side) / double(std::min(image.height, image.width));
  return resize_bilinear(image, std::max<int64_t>(std::llround(image.height * scale), 1),
                         std::max<int64_t>(std::llround(image.width * scale), 1));
}

void flip_left_right(Image& image) {
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width / 2; ++x)
      for (int64_t c = 0; c < image.channels; ++c)
        std::swap(image.at(y, x, c), image.at(y, image.width - 1 - x, c));
}

void adjust_brightness(Image& image, float delta) {
  for (float& v : image.pixels) v += delta;
}

void adjust_contrast(Image& image, float factor) {
  const int64_t n = image.height * image.width;
  for (int64_t c = 0; c < image.channels; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += image.pixels[i * image.channels + c];
    const float mean = float(sum / double(n));
    for (int64_t i = 0; i < n; ++i) {
      float& v = image.pixels[i * image.channels + c];
      v = (v - mean) * factor + mean;
    }
  }
}

void adjust_saturation(Image& image, float factor) {
  map_hsv(image, [factor](Rgb hsv) {
    hsv[1] = std::clamp(hsv[1] * factor, 0.f, 1.f);
    return hsv;
  });
}

void adjust_hue(Image& image, float delta) {
  map_hsv(image, [delta](Rgb hsv) {
    hsv[0] = hsv[0] + delta - std::floor(hsv[0] + delta);
    return hsv;
  });
}

void clip(Image& image, float lo, float hi) {
  for (float& v : image.pixels) v = std::clamp(v, lo, hi);
}

void standardize(Image& image) {
  const double n = double(image.pixels.size());
  double sum = 0, sq = 0;
  for (float v : image.pixels) sum += v;
  const double mean = sum / n;
  for (float v : image.pixels) sq += (v - mean) * (v - mean);
  const double scale = std::max(std::sqrt(sq / n), 1 / std::sqrt(n));
  for (float& v : image.pixels) v = float((v - mean) / scale);
}

}  // namespace mox::zoo::image
