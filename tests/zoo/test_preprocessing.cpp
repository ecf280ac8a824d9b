// get_data_augmentation_fn: the family of each name, output shapes and ranges per family and
// mode, exact central crops in eval, flips that flip, reproducibility by seed, clear errors;
// and the colour operations underneath on known colours.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/support/check.h"
#include "zoo/image_ops.h"
#include "zoo/preprocessing.h"

using namespace mox;
using zoo::get_data_augmentation_fn;

namespace {

// A u8 [h, w, c] image whose pixels all differ in a known way: (7y + 3x + 50c) mod 256.
Tensor synthetic(int64_t h, int64_t w, int64_t c = 3) {
  std::vector<double> v;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t ch = 0; ch < c; ++ch) v.push_back(double((7 * y + 3 * x + 50 * ch) % 256));
  return from_vector(v, {h, w, c}, opts(DType::u8));
}

// image[top:top+h, left:left+w] as f32 [c, h, w], the layout the functions return.
Tensor chw_crop(const Tensor& image, int64_t top, int64_t left, int64_t h, int64_t w) {
  return image.narrow(0, top, h).narrow(1, left, w).permute({2, 0, 1}).to(DType::f32).contiguous();
}

bool equal(const Tensor& a, const Tensor& b) {
  return a.sizes() == b.sizes() && amax(abs(a - b)).item() == 0;
}

}  // namespace

TEST_SUITE("zoo") {

TEST_CASE("preprocessing maps model names to the manual's families") {
  const std::pair<const char*, const char*> cases[] = {
      {"resnet_v1_50", "vgg_preprocessing"},       {"vgg_16_bn", "vgg_preprocessing"},
      {"vgg", "vgg_preprocessing"},                {"inception", "inception_preprocessing"},
      {"inception_v3", "inception_preprocessing"}, {"mobilenet_v2_035", "inception_preprocessing"},
      {"mobilenet_v1_025", "inception_preprocessing"}, {"cifarnet", "cifarnet_preprocessing"},
      {"resnet_v1_110", "cifarnet_preprocessing"}, {"lenet", "lenet_preprocessing"},
      {"pvanet", "pvanet_preprocessing"}};
  for (auto& [name, family] : cases) {
    CAPTURE(name);
    CHECK(zoo::preprocessing_name(name) == family);
  }
}

TEST_CASE("preprocessing output shapes and ranges per family and mode") {
  manual_seed(11);
  const Tensor image = synthetic(40, 50);
  for (ModeKeys mode : {ModeKeys::TRAIN, ModeKeys::EVAL}) {
    const std::string mode_str = mode_name(mode);
    CAPTURE(mode_str);
    // Non-square outputs catch swapped height and width.
    Tensor vgg = get_data_augmentation_fn("vgg_16", mode, 32, 28)(image);
    CHECK(vgg.sizes() == Shape{3, 32, 28});
    CHECK(vgg.dtype() == DType::f32);
    CHECK(amin(vgg).item() >= -123.68 - 1e-3);  // [0, 255] minus the channel means
    CHECK(amax(vgg).item() <= 255 - 103.94 + 1e-3);

    Tensor inc = get_data_augmentation_fn("mobilenet_v2", mode, 30, 20)(image);
    CHECK(inc.sizes() == Shape{3, 30, 20});
    CHECK(amin(inc).item() >= -1);
    CHECK(amax(inc).item() <= 1);
    CHECK(amax(inc).item() - amin(inc).item() > 0.5);  // not collapsed to a constant

    Tensor cif = get_data_augmentation_fn("cifarnet", mode, 32, 32)(image);
    CHECK(cif.sizes() == Shape{3, 32, 32});
    CHECK(mean(cif).item() == doctest::Approx(0).epsilon(1e-4).scale(1));
    CHECK(mox::std(cif, {}, false).item() == doctest::Approx(1).epsilon(1e-3));

    Tensor len = get_data_augmentation_fn("lenet", mode, 28, 28)(synthetic(40, 50, 1));
    CHECK(len.sizes() == Shape{1, 28, 28});
    CHECK(amin(len).item() >= -1);
    CHECK(amax(len).item() <= 127.0 / 128);
  }
}

TEST_CASE("preprocessing eval crops the centre exactly") {
  // lenet: crop_or_pad; 40x50 -> 20x30 takes rows 10..29 and columns 10..39.
  const Tensor image = synthetic(40, 50, 1);
  Tensor len = get_data_augmentation_fn("lenet", ModeKeys::EVAL, 20, 30)(image);
  CHECK(equal(len, (chw_crop(image, 10, 10, 20, 30) - 128.0) / 128.0));
  // ... and pads with zeros (-1 after scaling) around a smaller image: 4 rows above, 3 columns left.
  Tensor padded = get_data_augmentation_fn("lenet", ModeKeys::EVAL, 48, 56)(image);
  CHECK(equal(padded.narrow(1, 4, 40).narrow(2, 3, 50), (chw_crop(image, 0, 0, 40, 50) - 128.0) / 128.0));
  CHECK(padded.select(1, 0).select(1, 0).item() == -1);
  CHECK(padded.select(1, 47).select(1, 55).item() == -1);

  // inception: the central 87.5% (64 -> rows 4..59), resized to its own size (no change).
  const Tensor square = synthetic(64, 64);
  Tensor inc = get_data_augmentation_fn("inception_v3", ModeKeys::EVAL, 56, 56)(square);
  CHECK_ALLCLOSE(inc, chw_crop(square, 4, 4, 56, 56) / 127.5 - 1.0, (test::Tolerance{1e-6, 1e-6}));

  // vgg: smaller side already 256 (no resize), central 224x224 crop, minus the means.
  const Tensor wide = synthetic(256, 300);
  Tensor vgg = get_data_augmentation_fn("resnet_v1_50", ModeKeys::EVAL, 224, 224)(wide);
  Tensor means = tensor({123.68, 116.78, 103.94}).view({3, 1, 1});
  CHECK_ALLCLOSE(vgg, chw_crop(wide, 16, 38, 224, 224) - means, (test::Tolerance{0, 1e-4}));

  // cifarnet: central crop, then per-image standardization.
  Tensor cif = get_data_augmentation_fn("cifarnet", ModeKeys::EVAL, 20, 30)(square);
  Tensor crop = chw_crop(square, 22, 17, 20, 30);
  Tensor centred = crop - mean(crop);
  CHECK_ALLCLOSE(cif, centred / mox::std(crop, {}, false), (test::Tolerance{1e-4, 1e-5}));
}

TEST_CASE("preprocessing eval is deterministic and independent of the seed") {
  const Tensor image = synthetic(70, 90);
  for (const char* name : {"vgg_16", "inception_v1", "cifarnet"}) {
    CAPTURE(name);
    auto fn = get_data_augmentation_fn(name, ModeKeys::EVAL, 32, 32);
    manual_seed(1);
    Tensor a = fn(image);
    manual_seed(2);
    CHECK(equal(a, fn(image)));
    CHECK(equal(a, fn(image.to(DType::f32))));  // f32 pixel values give the same result
  }
}

TEST_CASE("preprocessing training flips left-right") {
  // A 512x512 image with a 512x512 output: vgg's random side and crop can only keep it whole,
  // so a result is the image or its mirror; over 16 seeds both occur.
  const Tensor image = synthetic(512, 512);
  Tensor means = tensor({123.68, 116.78, 103.94}).view({3, 1, 1});
  Tensor plain = chw_crop(image, 0, 0, 512, 512) - means;
  Tensor mirrored = empty_like(plain);
  for (int64_t x = 0; x < 512; ++x) mirrored.select(2, x).copy_(plain.select(2, 511 - x));
  auto fn = get_data_augmentation_fn("vgg_19", ModeKeys::TRAIN, 512, 512);
  int flips = 0, keeps = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    manual_seed(seed);
    Tensor out = fn(image);
    const bool kept = amax(abs(out - plain)).item() < 1e-3;
    const bool flipped = amax(abs(out - mirrored)).item() < 1e-3;
    CHECK(kept != flipped);
    keeps += kept;
    flips += flipped;
  }
  CHECK(flips > 0);
  CHECK(keeps > 0);
}

TEST_CASE("preprocessing training is reproducible by seed") {
  const Tensor image = synthetic(60, 80);
  for (const char* name : {"vgg_a", "inception_v4", "cifarnet", "lenet"}) {
    CAPTURE(name);
    auto fn = get_data_augmentation_fn(name, ModeKeys::TRAIN, 32, 32);
    manual_seed(5);
    Tensor a = fn(image);
    Tensor b = fn(image);  // the generator moved on
    manual_seed(5);
    CHECK(equal(a, fn(image)));
    // lenet's preprocessing draws nothing; the others differ from one draw to the next.
    if (std::string(name) != "lenet") CHECK_FALSE(equal(a, b));
  }
}

TEST_CASE("preprocessing defaults the output size to the model's image size") {
  Tensor out = get_data_augmentation_fn("mobilenet_v1", ModeKeys::EVAL)(synthetic(250, 260));
  CHECK(out.sizes() == Shape{3, 224, 224});
  out = get_data_augmentation_fn("cifarnet", ModeKeys::EVAL)(synthetic(40, 40));
  CHECK(out.sizes() == Shape{3, 32, 32});
}

TEST_CASE("preprocessing rejects bad images and names") {
  auto fn = get_data_augmentation_fn("inception_v3", ModeKeys::TRAIN, 32, 32);
  test::mentions(test::thrown<ShapeError>([&] { fn(zeros({32, 32}, opts(DType::u8))); }),
                 {"inception_preprocessing", "[height, width, channels]", "[32, 32]"});
  test::mentions(test::thrown<ShapeError>([&] { fn(zeros({32, 32, 4}, opts(DType::u8))); }),
                 {"1 or 3 channels", "[32, 32, 4]"});
  test::mentions(test::thrown<ShapeError>([&] { fn(zeros({0, 32, 3}, opts(DType::u8))); }),
                 {"empty"});
  test::mentions(test::thrown<TypeError>([&] { fn(zeros({8, 8, 3}, opts(DType::i32))); }),
                 {"u8 or f32", "i32"});
  auto vgg = get_data_augmentation_fn("vgg_16", ModeKeys::EVAL, 32, 32);
  test::mentions(test::thrown<ShapeError>([&] { vgg(synthetic(40, 40, 1)); }),
                 {"vgg_preprocessing", "3 channels"});
  auto cif = get_data_augmentation_fn("cifarnet", ModeKeys::TRAIN, 64, 64);
  test::mentions(test::thrown<Error>([&] { cif(synthetic(40, 40)); }),
                 {"cifarnet_preprocessing", "64x64", "48x48"});

  test::mentions(test::thrown<Error>([] { get_data_augmentation_fn("resnet_50", ModeKeys::TRAIN, 8, 8); }),
                 {"resnet_50", "resnet_v1_50", "mobilenet_v2", "vgg"});
  test::mentions(test::thrown<Error>([] { get_data_augmentation_fn("pvanet", ModeKeys::EVAL, 8, 8); }),
                 {"pvanet_preprocessing", "not implemented"});
  test::mentions(test::thrown<Error>([] { get_data_augmentation_fn("vgg", ModeKeys::EVAL); }),
                 {"vgg", "output_height"});
  test::mentions(test::thrown<Error>([] { get_data_augmentation_fn("lenet", ModeKeys::EVAL, -1, 8); }),
                 {"-1x8"});
}

TEST_CASE("image colour operations on known colours") {
  using zoo::image::Image;
  auto pixel = [](float r, float g, float b) {
    Image im(1, 1, 3);
    im.pixels = {r, g, b};
    return im;
  };
  auto near = [](const Image& im, std::vector<float> want) {
    for (size_t i = 0; i < want.size(); ++i)
      if (std::fabs(im.pixels[i] - want[i]) > 1e-5f) return false;
    return true;
  };
  Image red = pixel(1, 0, 0);
  zoo::image::adjust_hue(red, 1.f / 3);  // a third of the way round: red -> green
  CHECK(near(red, {0, 1, 0}));
  zoo::image::adjust_hue(red, -2.f / 3);  // wraps: green -> blue
  CHECK(near(red, {0, 0, 1}));
  Image orange = pixel(1, 0.5f, 0);
  zoo::image::adjust_saturation(orange, 0);  // grey at the same value
  CHECK(near(orange, {1, 1, 1}));
  Image muted = pixel(0.8f, 0.4f, 0.2f);
  zoo::image::adjust_saturation(muted, 0.5f);  // s 0.75 -> 0.375, v 0.8, hue kept
  CHECK(near(muted, {0.8f, 0.6f, 0.5f}));

  Image two(1, 2, 1);
  two.pixels = {0.2f, 0.6f};
  zoo::image::adjust_contrast(two, 2);  // around the mean 0.4
  CHECK(near(two, {0.f, 0.8f}));
  zoo::image::adjust_brightness(two, 0.5f);
  CHECK(near(two, {0.5f, 1.3f}));
  zoo::image::clip(two, 0, 1);
  CHECK(near(two, {0.5f, 1.f}));
}

}  // TEST_SUITE
