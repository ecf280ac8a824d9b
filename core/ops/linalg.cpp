// Linear algebra: matmul (1-d, 2-d and batched with broadcast batch dims, as torch.matmul),
// linear and addmm, each running on the strided GEMM kernel (kernels/linalg.h) without copying
// transposed or broadcast operands. Backward formulas are written with the same ops.
#include "core/ops/common.h"
#include "kernels/linalg.h"

namespace mox {
namespace {

// A [batch, rows, cols] operand walked with one batch stride (0 when broadcast). Copies only
// when the batch dims of x cannot be walked that way.
struct Batched {
  Tensor t;  // keeps the memory alive
  int64_t batch, rows, cols, bs, rs, cs;
};

Batched batched(const Tensor& x) {
  int64_t nd = x.dim();
  int64_t batch = 1, bs = 0, expect = -1;
  bool walkable = true;
  for (int64_t d = nd - 3; d >= 0; --d) {
    int64_t size = x.size(d), stride = x.stride(d);
    batch *= size;
    if (size == 1) continue;
    if (expect < 0) bs = stride;
    else walkable = walkable && stride == expect;
    expect = stride * size;
  }
  if (!walkable) return batched(x.contiguous());
  return {x, batch, x.size(nd - 2), x.size(nd - 1), bs, x.stride(nd - 2), x.stride(nd - 1)};
}

// out (dense [batch, m, n] of a's dtype) = alpha * a · b + beta * out.
void run_gemm(const char* op, const Batched& a, const Batched& b, const Tensor& out, double alpha,
              double beta) {
  GemmDesc d;
  d.dtype = out.dtype();
  d.batch = std::max(a.batch, b.batch);
  d.m = a.rows;
  d.n = b.cols;
  d.k = a.cols;
  d.alpha = alpha;
  d.beta = beta;
  d.a = a.t.raw_data();
  d.a_rs = a.rs, d.a_cs = a.cs, d.a_bs = a.batch == 1 ? 0 : a.bs;
  d.b = b.t.raw_data();
  d.b_rs = b.rs, d.b_cs = b.cs, d.b_bs = b.batch == 1 ? 0 : b.bs;
  d.c = out.raw_data();
  d.c_rs = d.n, d.c_cs = 1, d.c_bs = d.m * d.n;
  // A broadcast B and a batch of A whose matrices follow each other row after row: one GEMM
  // over all the rows packs B once.
  if (d.batch > 1 && d.b_bs == 0 && d.a_bs == d.m * d.a_rs) {
    d.m *= d.batch;
    d.batch = 1;
  }
  if (d.batch == 0 || d.m == 0 || d.n == 0) return;
  kernel(gemm_stub, out.device(), op)(d);
}

void check_matrix_operand(const char* op, const Tensor& x, const char* what) {
  check_defined(op, x, what);
  MOX_CHECK_T(TypeError, x.is_floating_point(), op, "expects floating-point tensors, got ", what,
              " ", x.str());
}

DType float_result(const Tensor& a, const Tensor& b) { return promote_types(a.dtype(), b.dtype()); }

}  // namespace

// ---- matmul

Tensor matmul(const Tensor& a, const Tensor& b) {
  const char* op = "matmul";
  check_matrix_operand(op, a, "first operand");
  check_matrix_operand(op, b, "second operand");
  check_same_device(op, a, b);
  MOX_CHECK_T(ShapeError, a.dim() >= 1 && b.dim() >= 1, op, "both operands need at least 1 dim, got ",
              a.str(), " and ", b.str());
  // 1-d operands become a row (left) or a column (right) and lose that dim in the result.
  Tensor a1 = a.dim() == 1 ? a.detach().unsqueeze(0) : a.detach();
  Tensor b1 = b.dim() == 1 ? b.detach().unsqueeze(1) : b.detach();
  int64_t M = a1.size(-2), K = a1.size(-1), N = b1.size(-1);
  MOX_CHECK_T(ShapeError, b1.size(-2) == K, op, "inner dimensions differ: ", a.str(), " @ ",
              b.str(), " (", K, " vs ", b1.size(-2), ")");
  Shape batch = broadcast_shapes(Shape(a1.sizes().begin(), a1.sizes().end() - 2),
                                 Shape(b1.sizes().begin(), b1.sizes().end() - 2), op);
  Shape full = batch;
  full.push_back(M);
  full.push_back(N);
  Shape shape = batch;
  if (a.dim() > 1) shape.push_back(M);
  if (b.dim() > 1) shape.push_back(N);

  DType dt = float_result(a, b), ct = compute_type(dt);
  Tensor out;
  {
    NoGradGuard no_grad;
    Shape sa = batch, sb = batch;
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    out = empty({shape_numel(batch), M, N}, opts(ct, a.device()));
    run_gemm(op, batched(a1.to(ct).expand(sa)), batched(b1.to(ct).expand(sb)), out, 1, 0);
    out = out.view(shape).to(dt);
  }
  return record_op(op, {a, b}, out,
                   [sa = SavedTensor(a), sb = SavedTensor(b), full](const TensorList& g,
                                                                    const std::vector<bool>& needs) {
                     Tensor av = sa.unpack("matmul"), bv = sb.unpack("matmul");
                     Tensor a1 = av.dim() == 1 ? av.unsqueeze(0) : av;
                     Tensor b1 = bv.dim() == 1 ? bv.unsqueeze(1) : bv;
                     Tensor gf = g[0].reshape(full);
                     Tensor ga, gb;
                     if (needs[0])
                       ga = sum_to(matmul(gf, b1.transpose(-1, -2)), a1.sizes()).reshape(av.sizes());
                     if (needs[1]) {
                       if (b1.dim() == 2 && a1.dim() > 2)  // broadcast B: one GEMM over all rows
                         gb = matmul(a1.reshape({-1, a1.size(-1)}).t(), gf.reshape({-1, gf.size(-1)}));
                       else
                         gb = sum_to(matmul(a1.transpose(-1, -2), gf), b1.sizes());
                       gb = gb.reshape(bv.sizes());
                     }
                     return TensorList{ga, gb};
                   });
}

// ---- linear: x [.., in] · weight[out, in]^T + bias[out]

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_matrix_operand(op, x, "input");
  check_matrix_operand(op, weight, "weight");
  check_same_device(op, x, weight);
  MOX_CHECK_T(ShapeError, weight.dim() == 2, op, "weight must be 2-d [out, in], got ", weight.str());
  MOX_CHECK_T(ShapeError, x.dim() >= 1 && x.size(-1) == weight.size(1), op, "input ", x.str(),
              " does not end in the weight's in_features ", weight.size(1), " (weight ",
              weight.str(), ")");
  int64_t in_f = weight.size(1), out_f = weight.size(0);
  DType dt = float_result(x, weight);
  if (bias.defined()) {
    check_matrix_operand(op, bias, "bias");
    check_same_device(op, x, bias);
    MOX_CHECK_T(ShapeError, bias.dim() == 1 && bias.size(0) == out_f, op, "bias must be [",
                out_f, "] for weight ", weight.str(), ", got ", bias.str());
    dt = promote_types(dt, bias.dtype());
  }
  DType ct = compute_type(dt);
  Shape shape = x.sizes();
  shape.back() = out_f;
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor x2 = x.to(ct).reshape({-1, in_f});
    Tensor w = weight.to(ct);
    out = empty({x2.size(0), out_f}, opts(ct, x.device()));
    if (bias.defined() && out.numel() > 0) copy_into(out, bias);
    Batched wt{w, 1, in_f, out_f, 0, w.stride(1), w.stride(0)};  // weight^T, no copy
    run_gemm(op, batched(x2), wt, out, 1, bias.defined() ? 1 : 0);
    out = out.view(shape).to(dt);
  }
  return record_op(op, {x, weight, bias}, out,
                   [sx = SavedTensor(x), sw = SavedTensor(weight), in_f, out_f](
                       const TensorList& g, const std::vector<bool>& needs) {
                     Tensor xv = sx.unpack("linear"), wv = sw.unpack("linear");
                     Tensor g2 = g[0].reshape({-1, out_f});
                     Tensor gx, gw, gb;
                     if (needs[0]) gx = matmul(g2, wv).reshape(xv.sizes());
                     if (needs[1]) gw = matmul(g2.t(), xv.reshape({-1, in_f}));
                     if (needs[2]) gb = sum(g2, {0});
                     return TensorList{gx, gw, gb};
                   });
}

// ---- addmm: beta * input + alpha * (m1 · m2)

Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta, double alpha) {
  const char* op = "addmm";
  check_matrix_operand(op, input, "input");
  check_matrix_operand(op, m1, "m1");
  check_matrix_operand(op, m2, "m2");
  check_same_device(op, m1, m2);
  check_same_device(op, input, m1);
  MOX_CHECK_T(ShapeError, m1.dim() == 2 && m2.dim() == 2, op, "m1 and m2 must be 2-d, got ",
              m1.str(), " and ", m2.str());
  MOX_CHECK_T(ShapeError, m1.size(1) == m2.size(0), op, "inner dimensions differ: ", m1.str(),
              " @ ", m2.str());
  Shape shape = {m1.size(0), m2.size(1)};
  MOX_CHECK_T(ShapeError, broadcast_shapes(input.sizes(), shape, op) == shape, op, "input ",
              input.str(), " does not broadcast to the product's shape ", shape_str(shape));
  DType dt = promote_types(float_result(m1, m2), input.dtype()), ct = compute_type(dt);
  Tensor out;
  {
    NoGradGuard no_grad;
    out = empty(shape, opts(ct, m1.device()));
    if (beta != 0 && out.numel() > 0) copy_into(out, input);
    run_gemm(op, batched(m1.to(ct)), batched(m2.to(ct)), out, alpha, beta);
    out = out.to(dt);
  }
  return record_op(op, {input, m1, m2}, out,
                   [s1 = SavedTensor(m1), s2 = SavedTensor(m2), shape_in = input.sizes(), beta,
                    alpha](const TensorList& g, const std::vector<bool>& needs) {
                     Tensor gi, g1, g2;
                     if (needs[0]) gi = beta == 0 ? zeros(shape_in, opts(g[0].dtype(), g[0].device()))
                                                  : mul(g[0], beta);
                     if (needs[1]) g1 = mul(matmul(g[0], s2.unpack("addmm").t()), alpha);
                     if (needs[2]) g2 = mul(matmul(s1.unpack("addmm").t(), g[0]), alpha);
                     return TensorList{gi, g1, g2};
                   });
}

}  // namespace mox
