// The NetworkKeys registry: the manual's table of names and metas, the builders the family
// files register, and get_model_fn's checks around a built network.
#include <algorithm>

#include "zoo/zoo.h"

namespace mox::zoo {

namespace {

struct Entry {
  ModelMeta meta;
  NetworkBuilder build;  // empty: listed, not implemented
};

// The manual's NetworkKeys (001 §1.3.3.1) in its order, with TF-slim's default image sizes:
// 299 for inception_v3/v4 and inception_resnet_v2 but 224 for inception_v1/v2 (the manual's
// "299 for the inception family" is TF-slim's figure for the later ones), 331 for the large
// NASNets, 231 for OverFeat. Labels offset 0 for the 1001-class ImageNet models (inception
// preprocessing family) and the 10-class CIFAR / MNIST ones, 1 for the 1000-class ones.
// Preprocessing by 001 §1.3.2.9.
std::vector<ModelMeta> manual_table() {
  struct Row {
    const char* name;
    int64_t size;
    int64_t offset;
    const char* preprocessing;
  };
  const Row rows[] = {
      {"alexnet_v2", 224, 1, "vgg"},         {"cifarnet", 32, 0, "cifarnet"},
      {"overfeat", 231, 1, "vgg"},           {"vgg_a", 224, 1, "vgg"},
      {"vgg_16", 224, 1, "vgg"},             {"vgg_19", 224, 1, "vgg"},
      {"vgg_a_bn", 224, 1, "vgg"},           {"vgg_16_bn", 224, 1, "vgg"},
      {"vgg_19_bn", 224, 1, "vgg"},          {"inception_v1", 224, 0, "inception"},
      {"inception_v2", 224, 0, "inception"}, {"inception_v3", 299, 0, "inception"},
      {"inception_v4", 299, 0, "inception"}, {"inception_resnet_v2", 299, 0, "inception"},
      {"lenet", 28, 0, "lenet"},             {"resnet_v1_18", 224, 1, "vgg"},
      {"resnet_v1_50", 224, 1, "vgg"},       {"resnet_v1_50_8k", 224, 1, "vgg"},
      {"resnet_v1_101", 224, 1, "vgg"},      {"resnet_v1_152", 224, 1, "vgg"},
      {"resnet_v1_200", 224, 1, "vgg"},      {"resnet_v2_50", 224, 1, "vgg"},
      {"resnet_v2_101", 224, 1, "vgg"},      {"resnet_v2_152", 224, 1, "vgg"},
      {"resnet_v2_200", 224, 1, "vgg"},      {"resnext_b_50", 224, 1, "vgg"},
      {"resnext_b_101", 224, 1, "vgg"},      {"resnext_c_50", 224, 1, "vgg"},
      {"resnext_c_101", 224, 1, "vgg"},      {"pvanet", 224, 1, "pvanet"},
      {"mobilenet_v1", 224, 0, "inception"}, {"mobilenet_v1_075", 224, 0, "inception"},
      {"mobilenet_v1_050", 224, 0, "inception"}, {"mobilenet_v1_025", 224, 0, "inception"},
      {"mobilenet_v2", 224, 0, "inception"}, {"mobilenet_v2_140", 224, 0, "inception"},
      {"mobilenet_v2_035", 224, 0, "inception"}, {"resnet_v1_20", 32, 0, "cifarnet"},
      {"resnet_v1_110", 32, 0, "cifarnet"},  {"nasnet_cifar", 32, 0, "cifarnet"},
      {"nasnet_mobile", 224, 0, "inception"}, {"nasnet_large", 331, 0, "inception"},
      {"pnasnet_large", 331, 0, "inception"}, {"pnasnet_mobile", 224, 0, "inception"},
  };
  std::vector<ModelMeta> metas;
  for (const Row& r : rows) {
    ModelMeta m;
    m.name = r.name;
    m.default_image_size = r.size;
    m.default_labels_offset = r.offset;
    m.preprocessing = std::string(r.preprocessing) + "_preprocessing";
    metas.push_back(m);
  }
  return metas;
}

// Manual keys first in the manual's order, then other registered names. Built on first use so
// that registrations running during static initialization in any order find it.
std::vector<Entry>& registry() {
  static std::vector<Entry> entries = [] {
    std::vector<Entry> e;
    for (ModelMeta& m : manual_table()) e.push_back({std::move(m), nullptr});
    return e;
  }();
  return entries;
}

Entry* find(const std::string& name) {
  auto& r = registry();
  auto it = std::find_if(r.begin(), r.end(), [&](const Entry& e) { return e.meta.name == name; });
  return it == r.end() ? nullptr : &*it;
}

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string size_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

ModelRegistration::ModelRegistration(ModelMeta meta, NetworkBuilder build) {
  if (Entry* e = find(meta.name)) {
    e->build = std::move(build);
    e->meta.supported = true;
    if (!meta.description.empty()) e->meta.description = meta.description;
    return;
  }
  meta.supported = true;
  registry().push_back({std::move(meta), std::move(build)});
}

std::vector<std::string> network_keys() {
  std::vector<std::string> names;
  for (const Entry& e : registry()) names.push_back(e.meta.name);
  return names;
}

std::vector<std::string> supported_network_keys() {
  std::vector<std::string> names;
  for (const Entry& e : registry())
    if (e.build) names.push_back(e.meta.name);
  return names;
}

ModelMeta get_model_meta(const std::string& name) {
  const Entry* e = find(name);
  MOX_CHECK(e, "get_model_meta", "unknown network '", name, "'; NetworkKeys: ", joined(network_keys()));
  return e->meta;
}

ModelFunction get_model_fn(const std::string& name, const NetOptions& o) {
  const Entry* e = find(name);
  MOX_CHECK(e, "get_model_fn", "unknown network '", name, "'; supported: ",
            joined(supported_network_keys()));
  MOX_CHECK(e->build, "get_model_fn", "'", name, "' is a NetworkKeys name Mox does not implement; supported: ",
            joined(supported_network_keys()));
  MOX_CHECK(o.num_classes > 0, "get_model_fn", name, ": num_classes must be positive, got ", o.num_classes);
  MOX_CHECK(o.weight_decay >= 0, "get_model_fn", name, ": weight_decay must not be negative, got ",
            o.weight_decay);
  MOX_CHECK(o.data_format == "NCHW" || o.data_format == "NHWC", "get_model_fn", name,
            ": data_format must be NCHW or NHWC, got '", o.data_format, "'");
  MOX_CHECK(o.image_height >= 0 && o.image_width >= 0 && (o.image_height > 0) == (o.image_width > 0),
            "get_model_fn", name, ": image_height and image_width must be given together and positive, got ",
            o.image_height, "x", o.image_width);
  ModelFunction fn;
  fn.network = e->build(o);
  fn.network->train(o.run_mode == ModeKeys::TRAIN);
  fn.run_mode = o.run_mode;
  fn.data_format = o.data_format;
  fn.name = name;
  fn.image_height = o.image_height;
  fn.image_width = o.image_width;
  return fn;
}

NetOutput ModelFunction::operator()(const Tensor& images) const {
  MOX_CHECK(network, name, ": the model function holds no network (use get_model_fn)");
  MOX_CHECK_T(ShapeError, images.dim() == 4, name, ": images must be a 4-d batch (",
              data_format == "NHWC" ? "[N, H, W, C]" : "[N, C, H, W]", ", data_format ",
              data_format, "), got ", images.str());
  Tensor x = data_format == "NHWC" ? images.permute({0, 3, 1, 2}).contiguous() : images;
  MOX_CHECK_T(ShapeError, image_height == 0 || (x.size(2) == image_height && x.size(3) == image_width),
              name, ": images ", size_str(images.sizes()), " (", data_format, ") are not ",
              image_height, "x", image_width, ", the image_height x image_width it was built for");
  NetOutput out;
  try {
    out = network->forward_with_end_points(x);
  } catch (const ShapeError& err) {
    const int64_t size = get_model_meta(name).default_image_size;
    throw ShapeError(name + ": images " + size_str(images.sizes()) + " (" + data_format +
                     ") do not fit the network (default size " + std::to_string(size) + "x" +
                     std::to_string(size) + "): " + err.what());
  }
  out.end_points.emplace("logits", out.logits);
  return out;
}

}  // namespace mox::zoo
