#include "tests/support/check.h"

#include <cmath>
#include <sstream>

namespace mox::test {

Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::f64: return {1e-10, 1e-12};
    case DType::f16: return {1e-2, 1e-2};
    case DType::bf16: return {2e-2, 2e-2};
    default: return {1e-5, 1e-5};
  }
}

std::string allclose_message(const Tensor& actual, const Tensor& expected, Tolerance tol) {
  std::ostringstream os;
  if (!actual.defined() || !expected.defined()) {
    os << "undefined tensor: actual " << actual.str() << ", expected " << expected.str();
    return os.str();
  }
  if (actual.sizes() != expected.sizes()) {
    os << "shape mismatch: actual " << actual.str() << ", expected " << expected.str();
    return os.str();
  }
  std::vector<double> a = actual.tolist(), e = expected.tolist();
  for (size_t i = 0; i < a.size(); ++i) {
    bool both_nan = std::isnan(a[i]) && std::isnan(e[i]);
    bool same_inf = std::isinf(a[i]) && a[i] == e[i];
    if (both_nan || same_inf) continue;
    if (!(std::fabs(a[i] - e[i]) <= tol.atol + tol.rtol * std::fabs(e[i]))) {
      os << "element " << i << " of " << actual.str() << ": actual " << a[i] << ", expected " << e[i]
         << " (rtol " << tol.rtol << ", atol " << tol.atol << ")";
      return os.str();
    }
  }
  return "";
}

namespace {

// Address of the flat (row-major) element j of a strided f64 tensor.
double* element(const Tensor& t, int64_t j) {
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (j % t.sizes()[d]) * t.strides()[d];
    j /= t.sizes()[d];
  }
  return static_cast<double*>(t.raw_data()) + off;
}

// Fixed weights so every output element matters with a different factor.
Tensor weights_like(const Tensor& t, int k) {
  std::vector<double> w(size_t(t.numel()));
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37 * double(i) + 1.3 * k) + 1.1;
  return from_vector(w, t.sizes(), opts(DType::f64));
}

double weighted_sum(const TensorList& outs, const std::vector<Tensor>& ws) {
  double s = 0;
  for (size_t k = 0; k < outs.size(); ++k)
    if (outs[k].defined() && outs[k].is_floating_point()) s += sum(mul(outs[k], ws[k])).item();
  return s;
}

}  // namespace

std::string gradcheck(const TestFn& f, const TensorList& inputs, double eps, double atol, double rtol) {
  TensorList outs = f(inputs);
  std::vector<Tensor> ws;
  for (size_t k = 0; k < outs.size(); ++k) ws.push_back(outs[k].defined() ? weights_like(outs[k], int(k)) : Tensor());
  Tensor loss;
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].defined() || !outs[k].requires_grad()) continue;
    Tensor term = sum(mul(outs[k], ws[k]));
    loss = loss.defined() ? add(loss, term) : term;
  }
  if (!loss.defined()) return "no output requires grad";
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) x.zero_grad();
  loss.backward();

  std::ostringstream report;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    if (x.dtype() != DType::f64) return "gradcheck needs f64 inputs, input " + std::to_string(i) + " is " + x.str();
    Tensor analytic = x.grad().defined() ? x.grad() : zeros_like(x);
    for (int64_t j = 0; j < x.numel(); ++j) {
      double* p = element(x, j);
      double orig = *p;
      double plus, minus;
      {
        NoGradGuard no_grad;
        *p = orig + eps;
        plus = weighted_sum(f(inputs), ws);
        *p = orig - eps;
        minus = weighted_sum(f(inputs), ws);
        *p = orig;
      }
      double numeric = (plus - minus) / (2 * eps);
      double got = *element(analytic.contiguous(), j);
      if (!(std::fabs(got - numeric) <= atol + rtol * std::fabs(numeric))) {
        report << "input " << i << " " << x.str() << " element " << j << ": backward " << got
               << ", numerical " << numeric;
        return report.str();
      }
    }
  }
  return "";
}

void mentions(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* part : parts)
    CHECK_MESSAGE(msg.find(part) != std::string::npos, "message \"", msg, "\" does not mention \"", part, "\"");
}

Tensor noncontiguous_copy(const Tensor& x) {
  if (x.dim() == 0 || x.numel() == 0) return x.clone();
  Shape wide = x.sizes();
  wide.back() *= 2;
  Tensor buf = zeros(wide, opts(x.dtype(), x.device()));
  Tensor view = buf.slice(-1, 0, wide.back(), 2);
  {
    NoGradGuard no_grad;
    view.copy_(x);
  }
  return view;
}

std::map<std::string, OpEntry>& op_registry() {
  static std::map<std::string, OpEntry> registry;
  return registry;
}

bool register_op(const char* name, bool differentiable, OpFn fn) {
  op_registry()[name] = {std::move(fn), differentiable};
  return true;
}

}  // namespace mox::test
