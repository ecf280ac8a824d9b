// The model zoo by the manual's NetworkKeys names (resnet_v1_50, inception_v3, mobilenet_v2, ...):
// get_model_fn builds a network and returns a callable giving logits and end points,
// get_model_meta the facts a training script needs about it.
//
//   auto model_fn = zoo::get_model_fn("resnet_v1_50", {.run_mode = ModeKeys::TRAIN,
//                                      .num_classes = 1000, .weight_decay = 1e-4});
//   auto [logits, end_points] = model_fn(images);   // images: [N, 3, 224, 224]
//   mox::run({..., .model = model_fn.network});
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"
#include "nn/run/run.h"

namespace mox::zoo {

using EndPoints = std::map<std::string, Tensor>;

struct NetOutput {
  Tensor logits;         // [N, num_classes]
  EndPoints end_points;  // named intermediate outputs; "logits" among them
};

// A zoo network: a Module whose forward gives the logits, and forward_with_end_points the
// named intermediate outputs too.
class Network : public nn::Module {
 public:
  Tensor forward(const Tensor& images) override { return forward_with_end_points(images).logits; }
  virtual NetOutput forward_with_end_points(const Tensor& images) = 0;
};

struct ModelMeta {
  std::string name;
  int64_t default_image_size = 224;
  int64_t default_labels_offset = 1;            // 1: 1000-class ImageNet models, 0: 1001-class
  std::string default_logits_pattern = "logits";  // the logits parameters' name prefix
  std::string preprocessing;                    // the PreprocessingKeys family
  bool supported = false;                       // false: listed, building it raises mox::Error
  std::string description;
};

// The options a network is built with (the manual's get_model_fn arguments).
struct NetOptions {
  ModeKeys run_mode = ModeKeys::TRAIN;
  int64_t num_classes = 1000;
  double weight_decay = 0;        // L2 decay on weights, added to regularization_losses()
  std::string data_format = "NCHW";  // NHWC: images come channels-last and are transposed
  bool batch_norm_fused = false;  // accepted; Mox's batch norm is one op either way
  int64_t image_height = 0, image_width = 0;  // PREDICT: the input size; 0: the default
};

// The network get_model_fn built, callable on images. It checks the images' rank (and their
// size when image_height / image_width were given), transposes NHWC images to NCHW, and
// re-raises a shape error from inside the network (a fixed-size network given another size)
// as a mox::ShapeError naming the model, the images' shape and the default size.
struct ModelFunction {
  std::shared_ptr<Network> network;
  ModeKeys run_mode = ModeKeys::TRAIN;
  std::string data_format = "NCHW";
  std::string name;
  int64_t image_height = 0, image_width = 0;  // 0: any size the network takes
  NetOutput operator()(const Tensor& images) const;
};

// Builds the named network (train() or eval() by run_mode). Unknown names and keys listed but
// not supported raise mox::Error listing the supported names.
ModelFunction get_model_fn(const std::string& name, const NetOptions& options = {});
// For a NetworkKeys name the registry's own table of the manual's facts gives the meta
// (image size, labels offset, logits pattern, preprocessing); a registration adds its builder
// and description. Unknown names raise mox::Error listing the NetworkKeys names.
ModelMeta get_model_meta(const std::string& name);
// Every NetworkKeys name in the manual's order, supported or not.
std::vector<std::string> network_keys();
std::vector<std::string> supported_network_keys();

// How family files add their networks: a static ModelRegistration in each. A name outside
// NetworkKeys is listed after them with the registration's meta as given.
using NetworkBuilder = std::function<std::shared_ptr<Network>(const NetOptions&)>;
struct ModelRegistration {
  ModelRegistration(ModelMeta meta, NetworkBuilder build);
};

}  // namespace mox::zoo
