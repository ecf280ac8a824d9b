// Layer tables for bench_conv; see conv_layers.h.
#include "bench/conv_layers.h"

namespace mox::bench {
namespace {

// One ResNet-50 stage (torchvision's layerN, "resS" here, S = N + 1): `units` bottleneck
// units of width `width` turning `in_c` channels at `size` into 4*width channels at size/stride.
// The first unit's 1x1 reads in_c channels (later ones read 4*width), its 3x3 carries the
// stride and its shortcut is a downsample 1x1 with that stride; the expand 1x1 is shared by
// every unit (and is also stage 2's stride-1 downsample, which has the same shape).
void add_stage(std::vector<ConvLayer>& v, int s, int64_t in_c, int64_t width, int64_t size, int units,
               int64_t stride) {
  const int64_t n = 32, out = 4 * width, after = size / stride;
  auto add = [&](const std::string& suffix, int64_t c, int64_t hw, int64_t oc, int64_t k, int64_t st,
                 int count) {
    v.push_back({"res" + std::to_string(s) + "_" + suffix, "resnet50", {n, c, hw, hw, oc, k, st, k / 2, 1}, count,
                 true});
  };
  add("1x1_in", in_c, size, width, 1, 1, 1);
  if (stride > 1) {
    add("3x3_s2", width, size, width, 3, stride, 1);
    add("3x3", width, after, width, 3, 1, units - 1);
    add("downsample", in_c, size, out, 1, stride, 1);
    add("1x1_expand", width, after, out, 1, 1, units);
  } else {
    add("3x3", width, size, width, 3, 1, units);
    add("1x1_expand", width, size, out, 1, 1, units + 1);  // + the stride-1 downsample
  }
  add("1x1_reduce", out, after, width, 1, 1, units - 1);
}

std::vector<ConvLayer> make_layers() {
  std::vector<ConvLayer> v;
  v.push_back({"conv1", "resnet50", {32, 3, 224, 224, 64, 7, 2, 3, 1}, 1, false});
  add_stage(v, 2, 64, 64, 56, 3, 1);
  add_stage(v, 3, 256, 128, 56, 4, 2);
  add_stage(v, 4, 512, 256, 28, 6, 2);
  add_stage(v, 5, 1024, 512, 14, 3, 2);
  v.push_back({"seed_conv1", "seed", {64, 1, 28, 28, 32, 3, 1, 0, 1}, 1, false});
  v.push_back({"seed_conv2", "seed", {64, 32, 26, 26, 64, 3, 1, 0, 1}, 1, true});
  v.push_back({"depthwise_3x3", "seed", {8, 32, 56, 56, 32, 3, 1, 1, 32}, 1, true});
  return v;
}

}  // namespace

double ConvLayer::flop() const {
  const ConvShape& s = shape;
  return 2.0 * double(s.n * s.out_c * s.oh() * s.ow()) * double(s.c / s.groups * s.k * s.k);
}

std::string ConvLayer::shape_str() const {
  const ConvShape& s = shape;
  return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) +
         " -> " + std::to_string(s.out_c) + " k" + std::to_string(s.k) + "/" + std::to_string(s.stride) +
         (s.groups > 1 ? " dw" : "");
}

nlohmann::json ConvLayer::to_json() const {
  const ConvShape& s = shape;
  return {{"name", name}, {"set", set},       {"n", s.n},           {"c", s.c},         {"h", s.h},
          {"w", s.w},     {"out_c", s.out_c}, {"k", s.k},           {"stride", s.stride}, {"pad", s.pad},
          {"groups", s.groups}, {"count", count}, {"need_dx", need_dx}, {"gflop", flop() * 1e-9}};
}

const std::vector<ConvLayer>& conv_layers() {
  static const std::vector<ConvLayer> layers = make_layers();
  return layers;
}

}  // namespace mox::bench
