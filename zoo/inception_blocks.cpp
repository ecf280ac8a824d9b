#include "zoo/inception_blocks.h"

#include "zoo/image_input.h"

namespace mox::zoo::inception {

nn::ModulePtr Convs::operator()(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                int64_t pad) const {
  return std::make_shared<ConvBn>(in, out,
                                  ConvBnOptions{.kernel_h = kernel,
                                                .kernel_w = kernel,
                                                .stride = stride,
                                                .pad_h = pad,
                                                .pad_w = pad,
                                                .bn_eps = 1e-3,
                                                .weight_decay = weight_decay});
}

nn::ModulePtr Convs::rect(int64_t in, int64_t out, int64_t kernel_h, int64_t kernel_w) const {
  return std::make_shared<ConvBn>(
      in, out,
      ConvBnOptions{.kernel_h = kernel_h, .kernel_w = kernel_w, .bn_eps = 1e-3,
                    .weight_decay = weight_decay});
}

nn::ModulePtr max_pool(int64_t k, int64_t s, int64_t pad, bool ceil_mode) {
  return std::make_shared<Pool>(
      true, Pool2dOptions{.kernel = {k, k}, .stride = {s, s}, .padding = {pad, pad},
                          .ceil_mode = ceil_mode});
}

nn::ModulePtr avg_pool_3x3(bool count_include_pad) {
  return std::make_shared<Pool>(
      false, Pool2dOptions{.kernel = {3, 3}, .stride = {1, 1}, .padding = {1, 1},
                           .count_include_pad = count_include_pad});
}

Chain::Chain(std::vector<nn::ModulePtr> layers) {
  for (size_t i = 0; i < layers.size(); ++i) register_module(std::to_string(i), layers[i]);
}

Tensor Chain::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& [name, layer] : children()) h = layer->forward(h);
  return h;
}

Mixed::Mixed(std::vector<std::pair<std::string, nn::ModulePtr>> branches) {
  MOX_CHECK(!branches.empty(), "Mixed", "needs at least one branch");
  for (auto& [name, branch] : branches) register_module(name, branch);
}

static std::vector<std::pair<std::string, nn::ModulePtr>> tf_slim_names(
    std::vector<nn::ModulePtr> branches) {
  std::vector<std::pair<std::string, nn::ModulePtr>> named;
  for (size_t i = 0; i < branches.size(); ++i)
    named.emplace_back("Branch_" + std::to_string(i), branches[i]);
  return named;
}

Mixed::Mixed(std::vector<nn::ModulePtr> branches) : Mixed(tf_slim_names(std::move(branches))) {}

Tensor Mixed::forward(const Tensor& x) {
  TensorList outs;
  for (auto& [name, branch] : children()) outs.push_back(branch->forward(x));
  return concat(outs, 1);
}

Block::Block(std::vector<std::pair<std::string, nn::ModulePtr>> layers, Forward forward)
    : forward_(std::move(forward)) {
  for (auto& [name, layer] : layers) by_name_[name] = register_module(name, layer);
}

Tensor Block::run(std::initializer_list<const char*> names, const Tensor& x) const {
  Tensor h = x;
  for (const char* name : names) {
    auto it = by_name_.find(name);
    MOX_CHECK(it != by_name_.end(), "InceptionBlock", "no layer named '", name, "'");
    h = it->second->forward(h);
  }
  return h;
}

InceptionNet::InceptionNet(std::string name, int64_t min_size,
                           std::vector<std::pair<std::string, nn::ModulePtr>> stages, Head head,
                           const NetOptions& o)
    : name_(std::move(name)), min_size_(min_size), stages_(std::move(stages)),
      dropout_(head.dropout) {
  for (auto& [stage, m] : stages_) register_module(stage, m);
  logits_ = register_module(
      "logits", std::make_shared<nn::Linear>(head.in_channels, o.num_classes,
                                             nn::LinearOptions{.weight_decay = o.weight_decay}));
}

NetOutput InceptionNet::forward_with_end_points(const Tensor& images) {
  check_min_image_input(name_, images, 3, min_size_);
  NetOutput out;
  Tensor x = images;
  for (auto& [stage, m] : stages_) x = out.end_points[stage] = m->forward(x);
  x = out.end_points["global_pool"] = global_avg_pool2d(x);
  out.logits = out.end_points["logits"] = logits_->forward(dropout(x, dropout_, is_training()));
  out.end_points["predictions"] = softmax(out.logits, -1);
  return out;
}

ModelMeta meta(std::string name, int64_t image_size, std::string description) {
  return {.name = std::move(name),
          .default_image_size = image_size,
          .default_labels_offset = 0,
          .preprocessing = "inception_preprocessing",
          .supported = true,
          .description = std::move(description)};
}

}  // namespace mox::zoo::inception
