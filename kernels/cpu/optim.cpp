// CPU fused optimizer updates (kernels/optim.h): a flat parallel loop per rule and dtype over
// the shared element rules. Timed as part of bench_train_small's and bench_resnet50's steps.
#include "kernels/common/update_rules.h"
#include "kernels/cpu/loop.h"
#include "kernels/optim.h"

namespace mox::cpu {
namespace {

template <class T>
void update_typed(UpdateRule rule, int64_t n, T* __restrict w, const T* __restrict g, T* __restrict s0,
                  T* __restrict s1, const UpdateArgs& p) {
  const T lr = T(p.lr), a = T(p.a), b = T(p.b), eps = T(p.eps);
  // By value, so the compiler sees the constants cannot alias the arrays and vectorizes.
  parallel_range(n, [=](int64_t lo, int64_t hi) {
    switch (rule) {
      case UpdateRule::momentum:
      case UpdateRule::nesterov: {
        const bool nesterov = rule == UpdateRule::nesterov;
        for (int64_t i = lo; i < hi; ++i) rule::momentum(w[i], g[i], s0[i], a, lr, nesterov);
        break;
      }
      case UpdateRule::adadelta:
        for (int64_t i = lo; i < hi; ++i) rule::adadelta(w[i], g[i], s0[i], s1[i], a, eps, lr);
        break;
      case UpdateRule::adam:
        for (int64_t i = lo; i < hi; ++i) rule::adam(w[i], g[i], s0[i], s1[i], a, b, eps, lr);
        break;
    }
  });
}

void optimizer_update(UpdateRule rule, DType t, int64_t n, void* w, const void* g, void* s0, void* s1,
                      const UpdateArgs& p) {
  switch (t) {
    case DType::f32:
      return update_typed(rule, n, static_cast<float*>(w), static_cast<const float*>(g), static_cast<float*>(s0),
                          static_cast<float*>(s1), p);
    case DType::f64:
      return update_typed(rule, n, static_cast<double*>(w), static_cast<const double*>(g),
                          static_cast<double*>(s0), static_cast<double*>(s1), p);
    default:
      unsupported("optimizer_update", t, "f32 or f64");
  }
}

}  // namespace

MOX_REGISTER_KERNEL(optimizer_update_stub, CPU, optimizer_update);

}  // namespace mox::cpu
