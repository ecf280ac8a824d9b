#include "zoo/resnet.h"

#include "zoo/blocks.h"

namespace mox::zoo {

namespace {

// conv + batch norm (+ relu) named conv.* / bn.*, as torchvision's convN + bnN pairs.
std::shared_ptr<ConvBn> conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                double wd, bool relu = true, int64_t groups = 1) {
  ConvBnOptions o;
  o.kernel_h = o.kernel_w = kernel;
  o.stride = stride;
  o.groups = groups;
  o.activation = relu ? "relu" : "linear";
  o.weight_decay = wd;
  return std::make_shared<ConvBn>(in, out, o);
}

// A bias-free conv for the pre-activation units, whose outputs reach a batch norm.
std::shared_ptr<nn::Conv2d> bare_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                      double wd, int64_t groups = 1) {
  nn::ConvOptions c;
  c.stride = stride;
  c.padding = kernel / 2;
  c.groups = groups;
  c.bias = false;
  c.weight_init = nn::init::he_normal();
  c.weight_decay = wd;
  return std::make_shared<nn::Conv2d>(in, out, kernel, c);
}

struct UnitShape {
  int64_t in, width, out, stride, groups;
  bool bottleneck;
  double weight_decay;
};

// Post-activation unit (v1 and CIFAR): relu(F(x) + shortcut(x)). The shortcut is a 1x1
// conv + BN projection when the shape changes, or, with zero_pad_shortcut (the CIFAR
// ResNets' option A), x subsampled with its extra channels zero.
class UnitV1 : public nn::Module {
 public:
  UnitV1(const UnitShape& u, bool zero_pad_shortcut) : u_(u), zero_pad_(zero_pad_shortcut) {
    const double wd = u.weight_decay;
    if (u.bottleneck) {
      convs_.push_back(register_module("conv1", conv_bn(u.in, u.width, 1, 1, wd)));
      convs_.push_back(register_module("conv2", conv_bn(u.width, u.width, 3, u.stride, wd, true, u.groups)));
      convs_.push_back(register_module("conv3", conv_bn(u.width, u.out, 1, 1, wd, false)));
    } else {
      convs_.push_back(register_module("conv1", conv_bn(u.in, u.out, 3, u.stride, wd)));
      convs_.push_back(register_module("conv2", conv_bn(u.out, u.out, 3, 1, wd, false)));
    }
    if ((u.stride != 1 || u.in != u.out) && !zero_pad_)
      shortcut_ = register_module("shortcut", conv_bn(u.in, u.out, 1, u.stride, wd, false));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (auto& c : convs_) y = c->forward(y);
    return relu(y + shortcut(x));
  }
  std::string type_name() const override { return "ResidualUnit"; }

 private:
  Tensor shortcut(const Tensor& x) {
    if (shortcut_) return shortcut_->forward(x);
    if (!zero_pad_ || (u_.stride == 1 && u_.in == u_.out)) return x;
    Pool2dOptions sub;  // a 1x1 max pool at the stride picks every stride-th pixel
    sub.kernel[0] = sub.kernel[1] = 1;
    sub.stride[0] = sub.stride[1] = u_.stride;
    return pad(max_pool2d(x, sub), {0, 0, 0, 0, 0, u_.out - u_.in});
  }
  UnitShape u_;
  bool zero_pad_;
  std::vector<nn::ModulePtr> convs_;
  nn::ModulePtr shortcut_;
};

// Pre-activation bottleneck unit (v2): p = relu(bn(x)); conv3(conv2(conv1(p))) + shortcut,
// the shortcut being x, or a 1x1 projection of p when the shape changes.
class UnitV2 : public nn::Module {
 public:
  explicit UnitV2(const UnitShape& u) {
    const double wd = u.weight_decay;
    preact_ = register_module("preact", std::make_shared<nn::BatchNorm2d>(u.in));
    conv1_ = register_module("conv1", conv_bn(u.in, u.width, 1, 1, wd));
    conv2_ = register_module("conv2", conv_bn(u.width, u.width, 3, u.stride, wd, true, u.groups));
    conv3_ = register_module("conv3", bare_conv(u.width, u.out, 1, 1, wd));
    if (u.stride != 1 || u.in != u.out)
      shortcut_ = register_module("shortcut", bare_conv(u.in, u.out, 1, u.stride, wd));
  }
  Tensor forward(const Tensor& x) override {
    Tensor p = relu(preact_->forward(x));
    Tensor y = conv3_->forward(conv2_->forward(conv1_->forward(p)));
    return y + (shortcut_ ? shortcut_->forward(p) : x);
  }
  std::string type_name() const override { return "PreactResidualUnit"; }

 private:
  nn::ModulePtr preact_, conv1_, conv2_, conv3_, shortcut_;
};

// A stage: units unit_1..unit_n run in turn.
class Stage : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    for (auto& [name, unit] : children()) y = unit->forward(y);
    return y;
  }
  std::string type_name() const override { return "ResNetStage"; }
  void add(nn::ModulePtr unit) { register_module("unit_" + std::to_string(children().size() + 1), unit); }
};

}  // namespace

ResNet::ResNet(const ResNetSpec& spec, const NetOptions& o) : spec_(spec) {
  using Kind = ResNetSpec::Kind;
  const double wd = o.weight_decay;
  const bool cifar = spec.kind == Kind::cifar;
  const int64_t base = cifar ? 16 : 64;
  if (spec.kind == Kind::v2)
    stem_ = register_module("conv1", bare_conv(3, base, 7, 2, wd));
  else
    stem_ = register_module("conv1", conv_bn(3, base, cifar ? 3 : 7, cifar ? 1 : 2, wd));
  const int64_t expansion = spec.bottleneck ? 4 : 1;
  int64_t in = base;
  for (size_t s = 0; s < spec.units.size(); ++s) {
    const int64_t planes = base << s;
    auto stage = std::make_shared<Stage>();
    for (int64_t u = 0; u < spec.units[s]; ++u) {
      UnitShape shape{in, planes * spec.width_per_group / 64 * spec.groups, planes * expansion,
                      (u == 0 && s > 0) ? 2 : 1, spec.groups, spec.bottleneck, wd};
      if (spec.kind == Kind::v2)
        stage->add(std::make_shared<UnitV2>(shape));
      else
        stage->add(std::make_shared<UnitV1>(shape, cifar));
      in = planes * expansion;
    }
    stages_.push_back(register_module("block" + std::to_string(s + 1), stage));
  }
  if (spec.kind == Kind::v2) postnorm_ = register_module("postnorm", std::make_shared<nn::BatchNorm2d>(in));
  nn::LinearOptions lo;
  lo.weight_decay = wd;
  logits_ = register_module("logits", std::make_shared<nn::Linear>(in, o.num_classes, lo));
}

NetOutput ResNet::forward_with_end_points(const Tensor& images) {
  MOX_CHECK_T(ShapeError, images.dim() == 4 && images.size(1) == 3, "ResNet",
              "expects images [N, 3, H, W], got ", images.str());
  EndPoints ep;
  Tensor x = ep["conv1"] = stem_->forward(images);
  if (spec_.kind != ResNetSpec::Kind::cifar) {
    Pool2dOptions pool;
    pool.kernel[0] = pool.kernel[1] = 3;
    pool.stride[0] = pool.stride[1] = 2;
    pool.padding[0] = pool.padding[1] = 1;
    x = ep["pool1"] = max_pool2d(x, pool);
  }
  for (size_t s = 0; s < stages_.size(); ++s) x = ep["block" + std::to_string(s + 1)] = stages_[s]->forward(x);
  if (postnorm_) x = ep["postnorm"] = relu(postnorm_->forward(x));
  x = ep["global_pool"] = global_avg_pool2d(x);
  Tensor logits = ep["logits"] = logits_->forward(x);
  ep["predictions"] = softmax(logits, -1);
  return {logits, std::move(ep)};
}

namespace {

struct Family {
  const char* name;
  ResNetSpec spec;
  const char* description;
};

using Kind = ResNetSpec::Kind;
const Family kFamily[] = {
    {"resnet_v1_18", {Kind::v1, false, {2, 2, 2, 2}}, "ResNet-18 (torchvision resnet18)"},
    {"resnet_v1_50", {Kind::v1, true, {3, 4, 6, 3}}, "ResNet-50 v1.5 (torchvision resnet50)"},
    {"resnet_v1_101", {Kind::v1, true, {3, 4, 23, 3}}, "ResNet-101 v1.5 (torchvision resnet101)"},
    {"resnet_v1_152", {Kind::v1, true, {3, 8, 36, 3}}, "ResNet-152 v1.5 (torchvision resnet152)"},
    {"resnet_v1_200", {Kind::v1, true, {3, 24, 36, 3}}, "ResNet-200 v1.5"},
    {"resnet_v2_50", {Kind::v2, true, {3, 4, 6, 3}}, "pre-activation ResNet-50"},
    {"resnet_v2_101", {Kind::v2, true, {3, 4, 23, 3}}, "pre-activation ResNet-101"},
    {"resnet_v2_152", {Kind::v2, true, {3, 8, 36, 3}}, "pre-activation ResNet-152"},
    {"resnet_v2_200", {Kind::v2, true, {3, 24, 36, 3}}, "pre-activation ResNet-200"},
    {"resnext_b_50", {Kind::v1, true, {3, 4, 6, 3}, 32, 4}, "ResNeXt-50 32x4d (torchvision resnext50_32x4d)"},
    {"resnext_b_101", {Kind::v1, true, {3, 4, 23, 3}, 32, 8}, "ResNeXt-101 32x8d (torchvision resnext101_32x8d)"},
    {"resnext_c_50", {Kind::v1, true, {3, 4, 6, 3}, 32, 4}, "ResNeXt-50 32x4d (torchvision resnext50_32x4d)"},
    {"resnext_c_101", {Kind::v1, true, {3, 4, 23, 3}, 32, 8}, "ResNeXt-101 32x8d (torchvision resnext101_32x8d)"},
    {"resnet_v1_20", {Kind::cifar, false, {3, 3, 3}}, "CIFAR ResNet-20 (option-A shortcuts)"},
    {"resnet_v1_110", {Kind::cifar, false, {18, 18, 18}}, "CIFAR ResNet-110 (option-A shortcuts)"},
};

const bool registered = [] {
  for (const Family& f : kFamily) {
    ModelMeta meta;
    meta.name = f.name;
    meta.description = f.description;
    const ResNetSpec spec = f.spec;
    ModelRegistration(meta, [spec](const NetOptions& o) { return std::make_shared<ResNet>(spec, o); });
  }
  return true;
}();

}  // namespace

}  // namespace mox::zoo
