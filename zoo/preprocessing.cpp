// The preprocessing families of TF-slim's preprocessing/ folder, on zoo/image_ops.
#include "zoo/preprocessing.h"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <utility>

#include "core/ops.h"
#include "zoo/image_ops.h"
#include "zoo/zoo.h"

namespace mox::zoo {
namespace {

using image::Image;

// PreprocessingKeys (001 §1.3.2.9) that are not NetworkKeys; the registry's metas give the
// family of every network key.
constexpr std::pair<std::string_view, std::string_view> kOtherNames[] = {
    {"vgg", "vgg_preprocessing"}, {"inception", "inception_preprocessing"}};

bool is_network_key(const std::string& name) {
  const auto keys = network_keys();
  return std::find(keys.begin(), keys.end(), name) != keys.end();
}

// Uniform draws from Mox's generator.
float draw(float lo, float hi) { return float(uniform({1}, lo, hi).item()); }
int64_t draw_int(int64_t lo, int64_t hi) {  // in [lo, hi]
  return std::min(lo + int64_t(std::floor(draw(0, 1) * float(hi - lo + 1))), hi);
}
void maybe_flip(Image& im) {
  if (draw(0, 1) < 0.5f) image::flip_left_right(im);
}
Image random_crop(const Image& im, int64_t height, int64_t width, const char* family) {
  MOX_CHECK(im.height >= height && im.width >= width, family, "cannot crop ", height, "x", width,
            " from a ", im.height, "x", im.width, " image");
  return image::crop(im, draw_int(0, im.height - height), draw_int(0, im.width - width), height,
                     width);
}

// ---- vgg_preprocessing: values in [0, 255], minus the ImageNet RGB means.
constexpr int64_t kVggSideMin = 256, kVggSideMax = 512;
constexpr float kVggMeans[3] = {123.68f, 116.78f, 103.94f};

Tensor vgg(Image im, bool train, int64_t h, int64_t w) {
  MOX_CHECK_T(ShapeError, im.channels == 3, "vgg_preprocessing",
              "subtracts RGB channel means and needs 3 channels, got ", im.channels);
  // A side below the crop size could not be cropped from: the crop size is the least.
  const int64_t lo = std::max({kVggSideMin, h, w}), hi = std::max({kVggSideMax, h, w});
  im = image::resize_smaller_side(im, train ? draw_int(lo, hi) : lo);
  if (train) {
    im = random_crop(im, h, w, "vgg_preprocessing");
    maybe_flip(im);
  } else {
    im = image::crop(im, (im.height - h) / 2, (im.width - w) / 2, h, w);
  }
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] -= kVggMeans[i % 3];
  return image::to_chw_tensor(im);
}

// ---- inception_preprocessing: values in [0, 1] while distorting, [-1, 1] out.

// tf.image.sample_distorted_bounding_box over the whole image with TF-slim's ranges (area
// 5-100%, aspect ratio 3/4-4/3, at least 10% of the image covered, 100 attempts; then the
// whole image).
Image distorted_box_crop(const Image& im) {
  const double area = double(im.height * im.width);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const double target = draw(0.05f, 1.f) * area, aspect = draw(0.75f, 1.33f);
    const int64_t h = std::llround(std::sqrt(target / aspect));
    const int64_t w = std::llround(double(h) * aspect);
    if (h < 1 || w < 1 || h > im.height || w > im.width || double(h * w) < 0.1 * area) continue;
    return random_crop(im, h, w, "inception_preprocessing");
  }
  return im;
}

// TF-slim's distort_color (not fast mode): brightness 32/255, saturation and contrast
// [0.5, 1.5], hue 0.2, in one of four orders, then clipped to [0, 1].
void distort_color(Image& im) {
  auto brightness = [&] { image::adjust_brightness(im, draw(-32.f / 255, 32.f / 255)); };
  auto saturation = [&] { image::adjust_saturation(im, draw(0.5f, 1.5f)); };
  auto hue = [&] { image::adjust_hue(im, draw(-0.2f, 0.2f)); };
  auto contrast = [&] { image::adjust_contrast(im, draw(0.5f, 1.5f)); };
  switch (draw_int(0, 3)) {
    case 0: brightness(); saturation(); hue(); contrast(); break;
    case 1: saturation(); brightness(); contrast(); hue(); break;
    case 2: contrast(); hue(); brightness(); saturation(); break;
    default: hue(); saturation(); contrast(); brightness(); break;
  }
  image::clip(im, 0, 1);
}

Tensor inception(Image im, bool train, int64_t h, int64_t w) {
  for (float& v : im.pixels) v /= 255.f;
  if (train) {
    im = image::resize_bilinear(distorted_box_crop(im), h, w);
    maybe_flip(im);
    distort_color(im);
  } else {
    im = image::resize_bilinear(image::central_crop(im, 0.875), h, w);
  }
  for (float& v : im.pixels) v = (v - 0.5f) * 2.f;
  return image::to_chw_tensor(im);
}

// ---- cifarnet_preprocessing: values in [0, 255], standardized per image.
Tensor cifarnet(Image im, bool train, int64_t h, int64_t w) {
  if (train) {
    constexpr int64_t kPadding = 4;
    im = random_crop(image::pad(im, kPadding, kPadding, kPadding, kPadding), h, w,
                     "cifarnet_preprocessing");
    maybe_flip(im);
    image::adjust_brightness(im, draw(-63.f, 63.f));
    image::adjust_contrast(im, draw(0.2f, 1.8f));
  } else {
    im = image::crop_or_pad(im, h, w);
  }
  image::standardize(im);
  return image::to_chw_tensor(im);
}

// ---- lenet_preprocessing: the same in every mode.
Tensor lenet(Image im, bool, int64_t h, int64_t w) {
  im = image::crop_or_pad(im, h, w);
  for (float& v : im.pixels) v = (v - 128.f) / 128.f;
  return image::to_chw_tensor(im);
}

}  // namespace

std::string preprocessing_name(const std::string& model_name) {
  for (auto& [name, family] : kOtherNames)
    if (name == model_name) return std::string(family);
  if (is_network_key(model_name)) return get_model_meta(model_name).preprocessing;
  std::string known;
  for (auto& [name, family] : kOtherNames) known += std::string(name) + ", ";
  for (const std::string& k : network_keys()) known += k + ", ";
  known.resize(known.size() - 2);
  throw Error("get_data_augmentation_fn: unknown model name '" + model_name +
              "'; known names: " + known);
}

DataAugmentationFn get_data_augmentation_fn(const std::string& name, ModeKeys run_mode,
                                            int64_t output_height, int64_t output_width) {
  const std::string family = preprocessing_name(name);
  if (output_height == 0 || output_width == 0) {
    MOX_CHECK(is_network_key(name), "get_data_augmentation_fn", "'", name,
              "' is not a network key: give output_height and output_width");
    const int64_t size = get_model_meta(name).default_image_size;
    if (output_height == 0) output_height = size;
    if (output_width == 0) output_width = size;
  }
  MOX_CHECK(output_height > 0 && output_width > 0, "get_data_augmentation_fn",
            "output size must be positive, got ", output_height, "x", output_width);
  using Family = Tensor (*)(Image, bool, int64_t, int64_t);
  Family fn = family == "vgg_preprocessing"        ? vgg
              : family == "inception_preprocessing" ? inception
              : family == "cifarnet_preprocessing"  ? cifarnet
              : family == "lenet_preprocessing"     ? lenet
                                                    : nullptr;
  MOX_CHECK(fn, "get_data_augmentation_fn", "'", name, "' uses ",
            family.empty() ? "no preprocessing family" : family,
            ", which is not implemented; the implemented families are vgg_preprocessing, "
            "inception_preprocessing, cifarnet_preprocessing and lenet_preprocessing");
  const bool train = run_mode == ModeKeys::TRAIN;
  return [fn, family, train, output_height, output_width](const Tensor& t) {
    return fn(image::from_tensor(t, family.c_str()), train, output_height, output_width);
  };
}

}  // namespace mox::zoo
