// The index of Mox's differentiable ops. The test suites enumerate it: every name here must
// have a numerical gradient check (tests/core/test_gradcheck*.cpp) and a PyTorch reference
// case (tests/ref/make_reference.py), and the suites fail when one is missing.
#pragma once

#define MOX_DIFFERENTIABLE_OPS(X)                                                        \
  /* elementwise */                                                                      \
  X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(where) X(neg) X(exp) X(log) \
  X(sqrt) X(rsqrt) X(abs) X(clamp) X(add_scalar) X(mul_scalar) X(pow_scalar) X(cast)     \
  /* activations */                                                                      \
  X(relu) X(relu6) X(leaky_relu) X(elu) X(sigmoid) X(tanh) X(gelu) X(softplus)           \
  /* reductions */                                                                       \
  X(sum) X(mean) X(var) X(std) X(amax) X(amin) X(max) X(min) X(logsumexp)                \
  /* linear algebra */                                                                   \
  X(matmul) X(linear) X(addmm)                                                           \
  /* convolution and pooling */                                                          \
  X(conv2d) X(max_pool2d) X(avg_pool2d) X(adaptive_avg_pool2d) X(global_avg_pool2d)      \
  /* normalization and regularization */                                                 \
  X(batch_norm) X(dropout)                                                               \
  /* softmax and losses */                                                               \
  X(softmax) X(log_softmax) X(cross_entropy) X(nll_loss) X(mse_loss)                     \
  /* shape */                                                                            \
  X(concat) X(stack) X(split) X(pad) X(reshape) X(transpose) X(permute) X(slice)         \
  X(select) X(expand) X(squeeze) X(unsqueeze) X(flatten) X(contiguous) X(sum_to)

// Ops without gradients (comparisons, indices, factories) that still have reference tests.
#define MOX_NONDIFFERENTIABLE_OPS(X) \
  X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(argmax) X(argmin) X(one_hot) X(in_top_k)
