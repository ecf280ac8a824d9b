#include "tests/zoo/net_check.h"

#include <doctest/doctest.h>

#include <cmath>

namespace mox::test {

zoo::ModelFunction check_forward_backward(const std::string& name, const Shape& input, int64_t num_classes,
                            const std::vector<ExpectedEndPoint>& end_points) {
  CAPTURE(name);
  manual_seed(11);
  auto model = zoo::get_model_fn(
      name, {.run_mode = ModeKeys::TRAIN, .num_classes = num_classes, .weight_decay = 1e-4});
  auto [logits, ep] = model(randn(input));
  const int64_t n = input[0];
  REQUIRE(logits.sizes() == Shape{n, num_classes});
  for (const ExpectedEndPoint& e : end_points) {
    CAPTURE(e.name);
    REQUIRE(ep.count(e.name) == 1);
    CHECK(ep.at(e.name).sizes() == e.shape);
  }
  CHECK(ep.at("logits").is_same(logits));
  CHECK(ep.at("predictions").sizes() == Shape{n, num_classes});

  const std::string pattern = zoo::get_model_meta(name).default_logits_pattern + ".";
  int64_t logits_params = 0;
  for (auto& [pname, p] : model.network->named_parameters())
    if (pname.rfind(pattern, 0) == 0) logits_params += p.numel();
  CHECK(logits_params % num_classes == 0);
  CHECK(logits_params > 0);

  Tensor targets = randint(0, num_classes, {n});
  Tensor loss = cross_entropy(logits, targets);
  TensorList reg = model.network->regularization_losses();
  CHECK_FALSE(reg.empty());
  for (const Tensor& r : reg) loss = loss + r;
  loss.backward();
  for (auto& [pname, p] : model.network->named_parameters()) {
    CAPTURE(pname);
    REQUIRE(p.grad().defined());
    const double g = sum(abs(p.grad())).item();
    CHECK(std::isfinite(g));
    // A bias may get none: a per-channel constant ahead of a training-mode batch norm (as
    // inception_resnet_v2's last block8 projection before Conv2d_7b_1x1) is normalized away.
    if (pname.size() < 5 || pname.compare(pname.size() - 5, 5, ".bias") != 0) CHECK(g > 0);
  }
  return model;
}

}  // namespace mox::test
