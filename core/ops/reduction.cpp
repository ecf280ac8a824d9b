// Reductions over any set of dims, with keepdim: sum, mean, var, std, amax/amin, max/min with
// indices, argmax/argmin, logsumexp. The kernel reduces the middle axis of [outer, K, inner];
// reduced dims that are not adjacent are first permuted to the end, except for sums, which
// reduce one run of adjacent dims at a time instead of copying the input into that order.
#include <algorithm>
#include <cmath>

#include "core/ops/common.h"
#include "kernels/reduce.h"

namespace mox {
namespace {

struct Plan {
  Tensor input;            // dense, laid out as [outer, K, inner]
  int64_t outer = 1, K = 1, inner = 1;
  Shape kept_shape;        // x's shape with reduced dims set to 1
  Shape out_shape;         // the result's shape (kept_shape when keepdim)
  std::vector<std::pair<int64_t, int64_t>> runs;  // sums over dims not adjacent: [first, last] runs
};

// by_runs: reduced dims that are not adjacent are left in place as runs (sums) instead of being
// permuted into one K axis.
Plan make_plan(const Tensor& x, const Shape& dims_in, bool keepdim, const char* op, bool by_runs = false) {
  check_defined(op, x, "input");
  int64_t nd = x.dim();
  std::vector<bool> reduced(size_t(nd), dims_in.empty());
  for (int64_t d : dims_in) {
    int64_t w = wrap_dim(d, nd, op);
    MOX_CHECK_T(IndexError, !reduced[size_t(w)] || dims_in.empty(), op, "dim ", d,
                " appears twice in ", shape_str(dims_in));
    reduced[size_t(w)] = true;
  }
  Plan p;
  for (int64_t d = 0; d < nd; ++d) {
    p.kept_shape.push_back(reduced[size_t(d)] ? 1 : x.sizes()[d]);
    if (!reduced[size_t(d)] || keepdim) p.out_shape.push_back(p.kept_shape.back());
  }
  int64_t first = nd, last = -1;
  for (int64_t d = 0; d < nd; ++d)
    if (reduced[size_t(d)]) first = std::min(first, d), last = std::max(last, d);
  bool adjacent = true;
  for (int64_t d = first; d <= last; ++d) adjacent = adjacent && reduced[size_t(d)];
  if (!adjacent && by_runs) {
    for (int64_t d = 0; d < nd; ++d)
      if (reduced[size_t(d)]) {
        if (d > 0 && reduced[size_t(d - 1)]) p.runs.back().second = d;
        else p.runs.push_back({d, d});
      }
    for (int64_t d = 0; d < nd; ++d)
      if (reduced[size_t(d)]) p.K *= x.sizes()[d];
    p.input = x;
  } else if (adjacent) {
    p.input = x.contiguous();
    for (int64_t d = 0; d < nd; ++d) {
      int64_t s = x.sizes()[d];
      if (d < first) p.outer *= s;
      else if (d <= last) p.K *= s;
      else p.inner *= s;
    }
  } else {
    Shape order;
    for (int64_t d = 0; d < nd; ++d) if (!reduced[size_t(d)]) order.push_back(d), p.outer *= x.sizes()[d];
    for (int64_t d = 0; d < nd; ++d) if (reduced[size_t(d)]) order.push_back(d), p.K *= x.sizes()[d];
    p.input = x.permute(order).contiguous();
  }
  return p;
}

// The raw kernel call: values (and indices for max/min) shaped like plan.out_shape.
Tensor run(ReduceOp rop, const Plan& p, const char* op, Tensor* indices) {
  NoGradGuard no_grad;
  DType ct = compute_type(p.input.dtype());
  if (rop == ReduceOp::sum && !is_floating(ct)) ct = DType::i64;  // integer sums widen
  Tensor in = p.input.to(ct).contiguous();
  Tensor out = empty(p.out_shape, opts(ct, in.device()));
  if (indices) *indices = empty(p.out_shape, opts(DType::i64, in.device()));
  if (out.numel() == 0) return out;
  if (p.K == 0) {
    MOX_CHECK_T(ShapeError, rop == ReduceOp::sum, op, "cannot reduce an empty dim of ",
                p.input.str());
    return out.fill_(0);
  }
  kernel(reduce_stub, in.device(), op)(rop, ct, out.raw_data(),
                                       indices ? indices->data_ptr<int64_t>() : nullptr,
                                       in.raw_data(), p.outer, p.K, p.inner);
  return out;
}

// A sum over runs of adjacent dims, the last run first, each pass reading the previous result
// in place (the kernel's [outer, K, inner] view of one run needs no copy).
Tensor sum_by_runs(const Plan& p) {
  Tensor cur = p.input;
  for (auto it = p.runs.rbegin(); it != p.runs.rend(); ++it) {
    Plan step;
    step.input = cur.contiguous();
    step.kept_shape = cur.sizes();
    for (int64_t d = 0; d < cur.dim(); ++d) {
      int64_t s = cur.sizes()[d];
      if (d < it->first) step.outer *= s;
      else if (d <= it->second) step.K *= s, step.kept_shape[size_t(d)] = 1;
      else step.inner *= s;
    }
    step.out_shape = step.kept_shape;
    cur = run(ReduceOp::sum, step, "sum", nullptr);
  }
  return cur.reshape(p.out_shape);
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  Plan p = make_plan(x, dims, keepdim, "sum", true);
  Tensor out = p.runs.empty() ? run(ReduceOp::sum, p, "sum", nullptr) : sum_by_runs(p);
  if (x.is_floating_point()) out = out.to(x.dtype());
  return record_op("sum", {x}, out, [kept = p.kept_shape, in = x.sizes()](const TensorList& g, auto&) {
    return TensorList{g[0].reshape(kept).expand(in)};
  });
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  check_floating("mean", x);
  Plan p = make_plan(x, dims, keepdim, "mean", true);  // for K only: no copy
  MOX_CHECK_T(ShapeError, p.K > 0, "mean", "mean over an empty dim of ", x.str());
  return mul(sum(x, dims, keepdim), 1.0 / double(p.K));
}

Tensor var(const Tensor& x, const Shape& dims, bool unbiased, bool keepdim) {
  check_floating("var", x);
  Plan p = make_plan(x, dims, keepdim, "var", true);  // for K only: no copy
  int64_t denom = p.K - (unbiased ? 1 : 0);
  MOX_CHECK_T(ShapeError, denom > 0, "var", "needs more than ", unbiased ? 1 : 0,
              " elements per reduction, got ", p.K, " from ", x.str());
  Tensor centered = sub(x, mean(x, dims, true));
  return mul(sum(mul(centered, centered), dims, keepdim), 1.0 / double(denom));
}

Tensor std(const Tensor& x, const Shape& dims, bool unbiased, bool keepdim) {
  return sqrt(var(x, dims, unbiased, keepdim));
}

// amax/amin: the gradient is shared evenly by the elements that attain the extreme.
static Tensor extreme_all(ReduceOp rop, const char* op, const Tensor& x, const Shape& dims, bool keepdim) {
  Plan p = make_plan(x, dims, keepdim, op);
  Tensor out = run(rop, p, op, nullptr).to(x.dtype());
  return record_op(op, {x}, out, [op, sx = SavedTensor(x), so = SavedTensor(out), kept = p.kept_shape](
                                     const TensorList& g, auto&) {
    Tensor xv = sx.unpack(op);
    Tensor hit = eq(xv, so.unpack(op).reshape(kept)).to(xv.dtype());
    Tensor count = sum(hit, [&] {
      Shape d;
      for (size_t i = 0; i < kept.size(); ++i) if (kept[i] == 1 && xv.sizes()[i] != 1) d.push_back(int64_t(i));
      return d;
    }(), true);
    return TensorList{mul(div(hit, count), g[0].reshape(kept))};
  });
}
Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) { return extreme_all(ReduceOp::max, "amax", x, dims, keepdim); }
Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) { return extreme_all(ReduceOp::min, "amin", x, dims, keepdim); }

// max/min along one dim: the gradient flows to the returned index only.
static ValuesIndices extreme_dim(ReduceOp rop, const char* op, const Tensor& x, int64_t dim, bool keepdim) {
  dim = wrap_dim(dim, x.dim(), op);
  Plan p = make_plan(x, x.dim() == 0 ? Shape{} : Shape{dim}, keepdim, op);
  Tensor idx;
  Tensor values = run(rop, p, op, &idx).to(x.dtype());
  values = record_op(op, {x}, values, [op, dim, si = SavedTensor(idx), in = x.sizes(), kept = p.kept_shape](
                                          const TensorList& g, auto&) {
    if (in.empty()) return TensorList{g[0]};
    Shape pos_shape(in.size(), 1);
    pos_shape[size_t(dim)] = in[size_t(dim)];
    Tensor pos = arange(double(in[size_t(dim)]), opts(DType::i64, g[0].device())).reshape(pos_shape);
    Tensor hit = eq(pos, si.unpack(op).reshape(kept));
    return TensorList{where(hit, g[0].reshape(kept), zeros({}, opts(g[0].dtype(), g[0].device())))};
  });
  return {values, idx};
}
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(ReduceOp::max, "max", x, dim, keepdim); }
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(ReduceOp::min, "min", x, dim, keepdim); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return max(x, dim, keepdim).indices;
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  NoGradGuard no_grad;
  return min(x, dim, keepdim).indices;
}

Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  check_floating("logsumexp", x);
  Tensor m;
  {
    NoGradGuard no_grad;
    m = amax(x, dims, true);
    m = where(eq(abs(m), full({}, INFINITY, opts(m.dtype(), m.device()))), zeros_like(m), m);  // keep inf rows finite
  }
  Tensor r = add(log(sum(exp(sub(x, m)), dims, true)), m);
  if (keepdim) return r;
  Plan p = make_plan(x, dims, false, "logsumexp");
  return r.reshape(p.out_shape);
}

}  // namespace mox
