// Shape ops: views that share storage (reshape, transpose, permute, slice, select, expand,
// squeeze, unsqueeze, flatten), casts, and ops that join or cut tensors (concat, stack, split,
// pad, sum_to). Each view's backward maps the gradient back onto the input's shape.
#include <numeric>

#include "core/ops/common.h"

namespace mox {
namespace {

Tensor make_view(const Tensor& x, Shape sizes, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.storage();
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  impl->is_view = true;
  return Tensor(std::move(impl));
}

// A view whose gradient is the output gradient reshaped back to the input's shape.
Tensor reshaped_view(const char* name, const Tensor& x, Shape sizes, Shape strides) {
  Tensor out = make_view(x, std::move(sizes), std::move(strides), x.offset());
  return record_op(name, {x}, out, [in = x.sizes()](const TensorList& g, auto&) {
    return TensorList{g[0].reshape(in)};
  });
}

// Resolves one -1 in shape against numel.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Tensor& x) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      MOX_CHECK_T(ShapeError, infer < 0, op, "only one dimension can be -1, got ", shape_str(shape));
      infer = int64_t(i);
    } else {
      MOX_CHECK_T(ShapeError, out[i] >= 0, op, "invalid size in shape ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    MOX_CHECK_T(ShapeError, known != 0 && numel % known == 0, op, "shape ", shape_str(shape),
                " is invalid for ", x.str());
    out[size_t(infer)] = numel / known;
  }
  MOX_CHECK_T(ShapeError, shape_numel(out) == numel, op, "shape ", shape_str(shape),
              " is invalid for ", x.str(), " (", numel, " elements)");
  return out;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    MOX_CHECK_T(ShapeError, da == db || da == 1 || db == 1, op, "shapes ", shape_str(a), " and ",
                shape_str(b), " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor cast(const Tensor& x, DType dtype) {
  check_defined("cast", x, "input");
  Tensor out = empty(x.sizes(), opts(dtype, x.device()));
  copy_into(out, x);
  if (!is_floating(dtype) || !x.is_floating_point()) return out;
  return record_op("cast", {x}, out, [](const TensorList& g, auto&) { return g; });
}

// ---- views

Tensor Tensor::view(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "view", *this);
  MOX_CHECK_T(ShapeError, is_contiguous(), "view", "tensor ", str(),
              " is not contiguous; use reshape() (which copies) instead");
  return reshaped_view("view", *this, s, contiguous_strides(s));
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = infer_shape(shape, numel(), "reshape", *this);
  return is_contiguous() ? reshaped_view("reshape", *this, s, contiguous_strides(s))
                         : contiguous().view(s);
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = wrap_dim(start, dim(), "flatten");
  end = wrap_dim(end, dim(), "flatten");
  MOX_CHECK_T(IndexError, start <= end, "flatten", "start_dim ", start, " is after end_dim ", end);
  Shape s(sizes().begin(), sizes().begin() + start);
  s.push_back(std::accumulate(sizes().begin() + start, sizes().begin() + end + 1, int64_t(1),
                              std::multiplies<>()));
  s.insert(s.end(), sizes().begin() + end + 1, sizes().end());
  return reshape(s);
}

Tensor Tensor::squeeze(std::optional<int64_t> d) const {
  Shape s, st;
  int64_t only = d ? wrap_dim(*d, dim(), "squeeze") : -1;
  for (int64_t i = 0; i < dim(); ++i) {
    bool drop = sizes()[i] == 1 && (only < 0 || only == i);
    if (!drop) {
      s.push_back(sizes()[i]);
      st.push_back(strides()[i]);
    }
  }
  return reshaped_view("squeeze", *this, s, st);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  MOX_CHECK_T(IndexError, d >= -(dim() + 1) && d <= dim(), "unsqueeze", "dim ", d,
              " is out of range for ", str(), " (expected in [", -(dim() + 1), ", ", dim(), "])");
  if (d < 0) d += dim() + 1;
  Shape s = sizes(), st = strides();
  int64_t stride = d < dim() ? sizes()[d] * strides()[d] : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  return reshaped_view("unsqueeze", *this, s, st);
}

Tensor Tensor::permute(const Shape& dims) const {
  MOX_CHECK_T(ShapeError, int64_t(dims.size()) == dim(), "permute", "got ", dims.size(),
              " dims ", shape_str(dims), " for ", str());
  Shape s(dims.size()), st(dims.size()), inverse(dims.size());
  std::vector<bool> used(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], dim(), "permute");
    MOX_CHECK_T(ShapeError, !used[size_t(d)], "permute", "dim ", d, " repeats in ", shape_str(dims));
    used[size_t(d)] = true;
    s[i] = sizes()[d];
    st[i] = strides()[d];
    inverse[size_t(d)] = int64_t(i);
  }
  Tensor out = make_view(*this, s, st, offset());
  return record_op("permute", {*this}, out, [inverse](const TensorList& g, auto&) {
    return TensorList{g[0].permute(inverse)};
  });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  Shape p(static_cast<size_t>(dim()));
  std::iota(p.begin(), p.end(), 0);
  if (dim() > 0) std::swap(p[wrap_dim(d0, dim(), "transpose")], p[wrap_dim(d1, dim(), "transpose")]);
  return permute(p);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = wrap_dim(d, dim(), "slice");
  MOX_CHECK_T(IndexError, step > 0, "slice", "step must be positive, got ", step);
  int64_t n = sizes()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape s = sizes(), st = strides();
  s[d] = (end - start + step - 1) / step;
  st[d] *= step;
  Tensor out = make_view(*this, s, st, offset() + start * strides()[d]);
  return record_op("slice", {*this}, out, [in = sizes(), d, start, end, step](const TensorList& g, auto&) {
    Tensor full = zeros(in, opts(g[0].dtype(), g[0].device()));
    copy_into(full.slice(d, start, end, step), g[0]);
    return TensorList{full};
  });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = wrap_dim(d, dim(), "narrow");
  MOX_CHECK_T(IndexError, start >= 0 && length >= 0 && start + length <= sizes()[d], "narrow",
              "range [", start, ", ", start + length, ") is outside dim ", d, " of ", str());
  return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  int64_t n = sizes()[d];
  MOX_CHECK_T(IndexError, index >= -n && index < n, "select", "index ", index,
              " is out of range for dim ", d, " of ", str());
  if (index < 0) index += n;
  Shape s = sizes(), st = strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  Tensor out = make_view(*this, s, st, offset() + index * strides()[d]);
  return record_op("select", {*this}, out, [in = sizes(), d, index](const TensorList& g, auto&) {
    Tensor full = zeros(in, opts(g[0].dtype(), g[0].device()));
    copy_into(full.select(d, index), g[0]);
    return TensorList{full};
  });
}

Tensor Tensor::expand(const Shape& shape) const {
  MOX_CHECK_T(ShapeError, int64_t(shape.size()) >= dim(), "expand", "cannot expand ", str(),
              " to fewer dims ", shape_str(shape));
  size_t lead = shape.size() - size_t(dim());
  Shape s(shape.size()), st(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      MOX_CHECK_T(ShapeError, shape[i] >= 0, "expand", "invalid target ", shape_str(shape));
      s[i] = shape[i];
      continue;
    }
    int64_t have = sizes()[i - lead], want = shape[i] == -1 ? have : shape[i];
    MOX_CHECK_T(ShapeError, have == want || have == 1, "expand", "cannot expand ", str(), " to ",
                shape_str(shape), " (dim ", i, ": ", have, " vs ", want, ")");
    s[i] = want;
    st[i] = have == want ? strides()[i - lead] : 0;
  }
  Tensor out = make_view(*this, s, st, offset());
  // FunctionNode sums the gradient back to the input's shape.
  return record_op("expand", {*this}, out, [](const TensorList& g, auto&) { return g; });
}

// ---- joins and cuts

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.sizes() == shape) return x;
  MOX_CHECK_T(ShapeError, int64_t(shape.size()) <= x.dim(), "sum_to", "cannot sum ", x.str(),
              " to the larger shape ", shape_str(shape));
  size_t lead = size_t(x.dim()) - shape.size();
  Shape dims;
  for (size_t i = 0; i < size_t(x.dim()); ++i) {
    if (i < lead) {
      dims.push_back(int64_t(i));
      continue;
    }
    int64_t want = shape[i - lead];
    MOX_CHECK_T(ShapeError, want == x.sizes()[i] || want == 1, "sum_to", "cannot sum ", x.str(),
                " to ", shape_str(shape));
    if (want == 1 && x.sizes()[i] != 1) dims.push_back(int64_t(i));
  }
  Tensor r = dims.empty() ? x : sum(x, dims, true);
  return r.reshape(shape);
}

Tensor concat(const TensorList& xs, int64_t dim) {
  MOX_CHECK(!xs.empty(), "concat", "needs at least one tensor");
  const Tensor& first = xs[0];
  check_defined("concat", first, "tensor 0");
  dim = wrap_dim(dim, first.dim(), "concat");
  Shape shape = first.sizes();
  DType dt = first.dtype();
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    check_defined("concat", x, "an input");
    check_same_device("concat", first, x);
    bool same = x.dim() == first.dim();
    for (int64_t d = 0; same && d < x.dim(); ++d) same = d == dim || x.sizes()[d] == first.sizes()[d];
    MOX_CHECK_T(ShapeError, same, "concat", "tensor ", i, " ", x.str(), " does not match tensor 0 ",
                first.str(), " outside dim ", dim);
    if (i > 0) {
      shape[dim] += x.sizes()[dim];
      dt = promote_types(dt, x.dtype());
    }
    lengths.push_back(x.sizes()[dim]);
  }
  Tensor out = empty(shape, opts(dt, first.device()));
  int64_t off = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    copy_into(out.narrow(dim, off, lengths[i]), xs[i]);
    off += lengths[i];
  }
  return record_op("concat", xs, out, [dim, lengths](const TensorList& g, auto&) {
    TensorList parts;
    int64_t o = 0;
    for (int64_t len : lengths) {
      parts.push_back(g[0].narrow(dim, o, len));
      o += len;
    }
    return parts;
  });
}

Tensor stack(const TensorList& xs, int64_t dim) {
  MOX_CHECK(!xs.empty(), "stack", "needs at least one tensor");
  dim = wrap_dim(dim, xs[0].dim() + 1, "stack");
  TensorList parts;
  for (size_t i = 0; i < xs.size(); ++i) {
    MOX_CHECK_T(ShapeError, xs[i].sizes() == xs[0].sizes(), "stack", "tensor ", i, " ",
                xs[i].str(), " does not match tensor 0 ", xs[0].str());
    parts.push_back(xs[i].unsqueeze(dim));
  }
  return concat(parts, dim);
}

TensorList split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    MOX_CHECK_T(ShapeError, s >= 0, "split", "negative size in ", shape_str(sizes));
    total += s;
  }
  MOX_CHECK_T(ShapeError, total == x.sizes()[dim], "split", "sizes ", shape_str(sizes),
              " add up to ", total, " but dim ", dim, " of ", x.str(), " has ", x.sizes()[dim]);
  TensorList out;
  int64_t off = 0;
  for (int64_t s : sizes) {
    out.push_back(x.narrow(dim, off, s));
    off += s;
  }
  return out;
}

TensorList split(const Tensor& x, int64_t split_size, int64_t dim) {
  dim = wrap_dim(dim, x.dim(), "split");
  MOX_CHECK(split_size > 0, "split", "split_size must be positive, got ", split_size);
  std::vector<int64_t> sizes;
  for (int64_t left = x.sizes()[dim]; left > 0; left -= split_size)
    sizes.push_back(std::min(left, split_size));
  return split_sizes(x, sizes, dim);
}

Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value) {
  check_defined("pad", x, "input");
  MOX_CHECK_T(ShapeError, pads.size() % 2 == 0 && int64_t(pads.size()) <= 2 * x.dim(), "pad",
              "pads needs (before, after) pairs for at most ", x.dim(), " dims of ", x.str(),
              ", got ", pads.size(), " values");
  Shape shape = x.sizes();
  for (size_t i = 0; i < pads.size(); i += 2) {
    MOX_CHECK_T(ShapeError, pads[i] >= 0 && pads[i + 1] >= 0, "pad", "negative padding ",
                shape_str(pads), " of ", x.str(), " is not supported");
    shape[size_t(x.dim()) - 1 - i / 2] += pads[i] + pads[i + 1];
  }
  Tensor out = full(shape, value, opts(x.dtype(), x.device()));
  Tensor inner = out;
  for (size_t i = 0; i < pads.size(); i += 2)
    inner = inner.narrow(x.dim() - 1 - int64_t(i / 2), pads[i], x.sizes()[size_t(x.dim()) - 1 - i / 2]);
  {
    NoGradGuard no_grad;
    copy_into(inner, x);
  }
  return record_op("pad", {x}, out, [pads, in = x.sizes()](const TensorList& g, auto&) {
    Tensor r = g[0];
    for (size_t i = 0; i < pads.size(); i += 2)
      r = r.narrow(int64_t(in.size()) - 1 - int64_t(i / 2), pads[i], in[in.size() - 1 - i / 2]);
    return TensorList{r};
  });
}

}  // namespace mox
