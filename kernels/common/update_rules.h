// One element of the fused optimizer updates (kernels/optim.h), as nn/optim/optimizer.cpp
// defines the rules; shared by every backend's loop. T is the parameter's type (float, double).
#pragma once
#include <cmath>

#include "kernels/common/hd.h"

namespace mox::rule {

// acc = m*acc + g; w -= lr*acc (nesterov: w -= lr*(g + m*acc))
template <class T>
MOX_HD void momentum(T& w, T g, T& acc, T m, T lr, bool nesterov) {
  acc = m * acc + g;
  w -= lr * (nesterov ? g + m * acc : acc);
}

// a = rho*a + (1-rho)*g^2; u = sqrt(au + eps)/sqrt(a + eps)*g; au = rho*au + (1-rho)*u^2; w -= lr*u
template <class T>
MOX_HD void adadelta(T& w, T g, T& a, T& au, T rho, T eps, T lr) {
  a = rho * a + (T(1) - rho) * (g * g);
  const T u = std::sqrt(au + eps) / std::sqrt(a + eps) * g;
  au = rho * au + (T(1) - rho) * (u * u);
  w -= lr * u;
}

// m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; w -= lr_t*m/(sqrt(v) + eps)
template <class T>
MOX_HD void adam(T& w, T g, T& m, T& v, T b1, T b2, T eps, T lr_t) {
  m = b1 * m + (T(1) - b1) * g;
  v = b2 * v + (T(1) - b2) * (g * g);
  w -= lr_t * m / (std::sqrt(v) + eps);
}

}  // namespace mox::rule
