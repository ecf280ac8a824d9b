// Pieces the Inception networks (inception_v1, _v3, _v4, inception_resnet_v2) share: the
// conv-bn-relu they are built of, pools as modules, branches run in sequence (Chain) or side by
// side and concatenated (Mixed), and InceptionNet, the stem-blocks-head network around them.
#pragma once
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "zoo/blocks.h"
#include "zoo/zoo.h"

namespace mox::zoo::inception {

// Makes conv -> batch norm (eps 0.001, as TF-slim's and torchvision's Inception nets) -> ReLU
// with the network's weight decay. pad < 0: same padding (kernel / 2); 0: valid.
struct Convs {
  double weight_decay = 0;
  nn::ModulePtr operator()(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
                           int64_t pad = -1) const;
  // kernel_h x kernel_w at stride 1 with same padding (the 1x7 / 7x1 factorized convs).
  nn::ModulePtr rect(int64_t in, int64_t out, int64_t kernel_h, int64_t kernel_w) const;
};

// Max or average pooling as a module.
class Pool : public nn::Module {
 public:
  Pool(bool max, Pool2dOptions o) : max_(max), o_(o) {}
  Tensor forward(const Tensor& x) override { return max_ ? max_pool2d(x, o_) : avg_pool2d(x, o_); }
  std::string type_name() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }

 private:
  bool max_;
  Pool2dOptions o_;
};
// k x k max pool at stride s, no padding (TF's VALID).
nn::ModulePtr max_pool(int64_t k, int64_t s, int64_t pad = 0, bool ceil_mode = false);
// 3x3 average pool, stride 1, same padding; TF averages over the window inside the image,
// torchvision's Inception v3 over the whole window (count_include_pad).
nn::ModulePtr avg_pool_3x3(bool count_include_pad);

// Layers applied in order, named "0", "1", ... (as a torch.nn.Sequential).
class Chain : public nn::Module {
 public:
  explicit Chain(std::vector<nn::ModulePtr> layers);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Chain"; }
};

// Named branches run on the same input, outputs concatenated along the channels.
class Mixed : public nn::Module {
 public:
  explicit Mixed(std::vector<std::pair<std::string, nn::ModulePtr>> branches);
  // Branches named Branch_0, Branch_1, ... as in TF-slim.
  explicit Mixed(std::vector<nn::ModulePtr> branches);
  Tensor forward(const Tensor& x) override;
  std::string type_name() const override { return "Mixed"; }
};

inline nn::ModulePtr chain(std::vector<nn::ModulePtr> layers) {
  return std::make_shared<Chain>(std::move(layers));
}
inline nn::ModulePtr mixed(std::vector<nn::ModulePtr> branches) {
  return std::make_shared<Mixed>(std::move(branches));
}

// A block whose layers are registered flat under given names (torchvision's Inception v3
// style: branch5x5_1, branch5x5_2, ...), with its forward written as a function of them.
class Block : public nn::Module {
 public:
  using Forward = std::function<Tensor(const Block&, const Tensor&)>;
  Block(std::vector<std::pair<std::string, nn::ModulePtr>> layers, Forward forward);
  // The named layers applied in order to x.
  Tensor run(std::initializer_list<const char*> names, const Tensor& x) const;
  Tensor forward(const Tensor& x) override { return forward_(*this, x); }
  std::string type_name() const override { return "InceptionBlock"; }

 private:
  std::map<std::string, nn::ModulePtr> by_name_;
  Forward forward_;
};

struct Head {
  int64_t in_channels;
  double dropout;  // rate before the logits
};

// The layout every Inception network has: named stages (stem layers and blocks, each also an
// end point), global average pooling ("global_pool"), dropout, the "logits" dense layer and
// their softmax ("predictions").
// Images smaller than min_size would pool down to nothing and are rejected by name.
class InceptionNet : public Network {
 public:
  InceptionNet(std::string name, int64_t min_size,
               std::vector<std::pair<std::string, nn::ModulePtr>> stages, Head head,
               const NetOptions& options);
  NetOutput forward_with_end_points(const Tensor& images) override;
  std::string type_name() const override { return "InceptionNet"; }

 private:
  std::string name_;
  int64_t min_size_;
  std::vector<std::pair<std::string, nn::ModulePtr>> stages_;
  double dropout_;
  nn::ModulePtr logits_;
};

// The metadata every Inception network shares (1001 classes: labels offset 0).
ModelMeta meta(std::string name, int64_t image_size, std::string description);

}  // namespace mox::zoo::inception
