// Every op Mox offers, as free functions in namespace mox. Each family is implemented in
// core/ops/<family>.cpp (shape rules, dispatch and backward side by side); core/ops/op_list.h
// indexes the differentiable ones for the test suites.
#pragma once
#include <optional>
#include <vector>

#include "core/autograd/node.h"
#include "core/tensor.h"

namespace mox {

// ---- shape.cpp: views, copies and joins
Tensor cast(const Tensor& x, DType dtype);
Tensor concat(const TensorList& xs, int64_t dim = 0);
Tensor stack(const TensorList& xs, int64_t dim = 0);
TensorList split(const Tensor& x, int64_t split_size, int64_t dim = 0);
TensorList split_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
// pads holds (before, after) pairs starting from the last dim, as torch.nn.functional.pad.
Tensor pad(const Tensor& x, const std::vector<int64_t>& pads, double value = 0);
// Sums x down to shape (the reverse of broadcasting shape up to x's shape).
Tensor sum_to(const Tensor& x, const Shape& shape);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// ---- elementwise.cpp: arithmetic and comparisons with NumPy broadcasting
Tensor add(const Tensor& a, const Tensor& b, double alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor pow(const Tensor& a, double exponent);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor clamp(const Tensor& x, double lo, double hi);
// In place: the result is written into a's storage (a's dtype and shape are kept).
Tensor& add_(Tensor& a, const Tensor& b, double alpha = 1);
Tensor& sub_(Tensor& a, const Tensor& b);
Tensor& mul_(Tensor& a, const Tensor& b);
Tensor& div_(Tensor& a, const Tensor& b);

// ---- activation.cpp
Tensor relu(const Tensor& x);
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor gelu(const Tensor& x);
Tensor softplus(const Tensor& x);

// ---- reduction.cpp: over dims (empty = all), keepdim keeps them as size 1
Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor var(const Tensor& x, const Shape& dims = {}, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, const Shape& dims = {}, bool unbiased = true, bool keepdim = false);
Tensor amax(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
struct ValuesIndices {
  Tensor values, indices;
};
ValuesIndices max(const Tensor& x, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim = false);

// ---- linalg.cpp
// Batched and broadcast like torch.matmul (1-d operands are promoted and the dim removed).
Tensor matmul(const Tensor& a, const Tensor& b);
// x [.., in] · weight[out, in]^T + bias[out]
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// beta * input + alpha * (m1 · m2), 2-d
Tensor addmm(const Tensor& input, const Tensor& m1, const Tensor& m2, double beta = 1,
             double alpha = 1);

// ---- conv.cpp, pool.cpp (NCHW)
struct Conv2dOptions {
  int64_t stride[2] = {1, 1};
  int64_t padding[2] = {0, 0};
  int64_t dilation[2] = {1, 1};
  int64_t groups = 1;
  bool relu = false;  // max(0, ·) on the output: relu(conv2d(...)) as one op, fused where a kernel can
};
// x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or undefined
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dOptions& o = {});
// How conv2d computes where a device offers a choice. fastest: an implicit GEMM (the input
// gathered while the GEMM packs, no column matrix) where the device has one (the weight gradient
// of a 1x1 stride-1 unpadded convolution stays a plain GEMM over x), direct kernels for depthwise
// ones. im2col: columns + GEMM (and col2im) wherever the implicit GEMM would run, the simple path
// the fast ones are tested against.
enum class ConvAlgorithm { fastest, im2col };
void set_conv_algorithm(ConvAlgorithm algorithm);
ConvAlgorithm conv_algorithm();
struct Pool2dOptions {
  int64_t kernel[2] = {2, 2};
  int64_t stride[2] = {0, 0};  // 0: same as kernel
  int64_t padding[2] = {0, 0};
  bool ceil_mode = false;
  bool count_include_pad = true;  // avg_pool2d only
};
Tensor max_pool2d(const Tensor& x, const Pool2dOptions& o = {});
Tensor avg_pool2d(const Tensor& x, const Pool2dOptions& o = {});
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);
Tensor global_avg_pool2d(const Tensor& x);  // [N, C, H, W] -> [N, C]

// ---- norm.cpp
// Training mode uses batch statistics and updates running_mean/var in place (when defined)
// with momentum; eval mode normalizes with the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);
// Zeroes elements with probability p from the seeded generator, scales the rest by 1/(1-p).
Tensor dropout(const Tensor& x, double p, bool training = true);

// ---- loss.cpp
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
enum class Reduction { none, mean, sum };
// logits [N, C]; target: class indices [N] (i64/i32) or probabilities [N, C] (floating).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction r = Reduction::mean,
                     double label_smoothing = 0);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction r = Reduction::mean);
Tensor mse_loss(const Tensor& x, const Tensor& target, Reduction r = Reduction::mean);
Tensor one_hot(const Tensor& indices, int64_t num_classes, DType dtype = DType::f32);
// predictions [N, C], targets [N]: true where the target is among the k largest.
Tensor in_top_k(const Tensor& predictions, const Tensor& targets, int64_t k);

// ---- random.cpp: counter-based (Philox 4x32-10), reproducible across runs and thread counts
void manual_seed(uint64_t seed);
Tensor rand(const Shape& shape, TensorOptions o = {});
Tensor randn(const Shape& shape, TensorOptions o = {});
Tensor uniform(const Shape& shape, double lo, double hi, TensorOptions o = {});
Tensor normal(const Shape& shape, double mean, double stddev, TensorOptions o = {});
Tensor randint(int64_t lo, int64_t hi, const Shape& shape, TensorOptions o = {DType::i64});

// ---- amp.cpp: loss scaling
// grad *= factor in place (grad floating, no autograd); false when any result is inf or NaN.
bool unscale_(const Tensor& grad, double factor);

// ---- operators
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator+(double a, const Tensor& b) { return add(b, a); }
inline Tensor operator-(const Tensor& a, double b) { return add(a, -b); }
inline Tensor operator-(double a, const Tensor& b) { return add(neg(b), a); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, double b) { return mul(a, 1.0 / b); }
inline Tensor operator/(double a, const Tensor& b) { return mul(pow(b, -1.0), a); }

}  // namespace mox
