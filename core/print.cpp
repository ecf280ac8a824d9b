// Printing like PyTorch: tensor([[ 1.0000, -2.5000], ...]), summarizing large tensors.
#include <cmath>
#include <iomanip>

#include "core/autograd/node.h"
#include "core/ops.h"

namespace mox {
namespace {

constexpr int64_t kSummarizeAbove = 1000;  // elements; larger tensors show 3 per edge
constexpr int64_t kEdgeItems = 3;

struct Format {
  bool integral;      // every value is a whole number: print as "1." like PyTorch
  bool scientific;
  int width;
};

Format choose_format(const std::vector<double>& v, bool is_float) {
  Format f{true, false, 1};
  double max_abs = 0, min_abs = INFINITY;
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    if (x != std::floor(x)) f.integral = false;
    max_abs = std::max(max_abs, std::fabs(x));
    if (x != 0) min_abs = std::min(min_abs, std::fabs(x));
  }
  if (is_float && !f.integral && (max_abs >= 1e8 || (min_abs < 1e-4 && max_abs / min_abs > 1e3)))
    f.scientific = true;
  for (double x : v) {
    std::ostringstream os;
    if (!is_float) os << int64_t(x);
    else if (f.scientific) os << std::scientific << std::setprecision(4) << x;
    else if (f.integral) os << std::fixed << std::setprecision(0) << x << ".";
    else os << std::fixed << std::setprecision(4) << x;
    f.width = std::max(f.width, int(os.str().size()));
  }
  return f;
}

void print_value(std::ostream& os, double x, DType dt, const Format& f) {
  std::ostringstream s;
  if (dt == DType::boolean) s << (x != 0 ? "True" : "False");
  else if (!is_floating(dt)) s << int64_t(x);
  else if (!std::isfinite(x)) s << (std::isnan(x) ? "nan" : (x > 0 ? "inf" : "-inf"));
  else if (f.scientific) s << std::scientific << std::setprecision(4) << x;
  else if (f.integral) s << std::fixed << std::setprecision(0) << x << ".";
  else s << std::fixed << std::setprecision(4) << x;
  os << std::setw(f.width) << s.str();
}

void print_dim(std::ostream& os, const Tensor& t, const Format& f, int indent, bool summarize) {
  if (t.dim() == 0) {
    print_value(os, t.item(), t.dtype(), f);
    return;
  }
  int64_t n = t.size(0);
  bool cut = summarize && n > 2 * kEdgeItems;
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      if (t.dim() == 1) os << " ...,";
      else os << "\n" << std::setw(indent + 1) << "" << "...,";
      i = n - kEdgeItems;
    }
    if (i > 0) {
      if (t.dim() == 1) os << ", ";
      else os << "," << std::string(size_t(t.dim() - 1), '\n') << std::setw(indent + 1) << "";
    }
    print_dim(os, t.select(0, i), f, indent + 1, summarize);
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  NoGradGuard no_grad;
  Tensor c = t.detach().to(Device::cpu());
  bool summarize = c.numel() > kSummarizeAbove;
  std::vector<double> values = c.numel() <= kSummarizeAbove ? c.tolist() : std::vector<double>{};
  if (summarize) {  // format from the edges only
    Tensor flat = c.reshape({-1});
    for (int64_t i = 0; i < kEdgeItems; ++i) {
      values.push_back(flat[i].item());
      values.push_back(flat[flat.numel() - 1 - i].item());
    }
  }
  Format f = choose_format(values, c.is_floating_point());
  os << "tensor(";
  print_dim(os, c, f, 7, summarize);
  if (c.dtype() != DType::f32 && c.dtype() != DType::i64 && c.dtype() != DType::boolean)
    os << ", dtype=" << dtype_name(c.dtype());
  if (t.device().is_cuda()) os << ", device='" << t.device().str() << "'";
  if (t.requires_grad() && t.is_leaf()) os << ", requires_grad=True";
  if (t.requires_grad() && !t.is_leaf()) os << ", grad_fn=<" << t.grad_fn()->name() << ">";
  return os << ")";
}

}  // namespace mox
