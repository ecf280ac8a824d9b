// Registry entries for the linear-algebra, convolution and pooling families (cases in
// tests/ref/cases_linalg.py and cases_conv.py).
#include "tests/support/check.h"

namespace mox::test {
namespace {

Tensor optional_input(const TensorList& in, size_t i) { return in.size() > i ? in[i] : Tensor(); }

Conv2dOptions conv_options(const nlohmann::json& args) {
  Conv2dOptions o;
  for (int i = 0; i < 2; ++i) {
    o.stride[i] = args["stride"][i];
    o.padding[i] = args["padding"][i];
    o.dilation[i] = args["dilation"][i];
  }
  o.groups = args["groups"];
  return o;
}

Pool2dOptions pool_options(const nlohmann::json& args) {
  Pool2dOptions o;
  for (int i = 0; i < 2; ++i) {
    o.kernel[i] = args["kernel"][i];
    o.stride[i] = args["stride"][i];
    o.padding[i] = args["padding"][i];
  }
  o.ceil_mode = args["ceil_mode"];
  o.count_include_pad = args["count_include_pad"];
  return o;
}

}  // namespace

MOX_TEST_OP(matmul, true) { return {matmul(in[0], in[1])}; }
MOX_TEST_OP(linear, true) { return {linear(in[0], in[1], optional_input(in, 2))}; }
MOX_TEST_OP(addmm, true) {
  return {addmm(in[0], in[1], in[2], args["beta"].get<double>(), args["alpha"].get<double>())};
}
MOX_TEST_OP(conv2d, true) {
  return {conv2d(in[0], in[1], optional_input(in, 2), conv_options(args))};
}
MOX_TEST_OP(max_pool2d, true) { return {max_pool2d(in[0], pool_options(args))}; }
MOX_TEST_OP(avg_pool2d, true) { return {avg_pool2d(in[0], pool_options(args))}; }
MOX_TEST_OP(adaptive_avg_pool2d, true) {
  return {adaptive_avg_pool2d(in[0], args["output"][0], args["output"][1])};
}
MOX_TEST_OP(global_avg_pool2d, true) { return {global_avg_pool2d(in[0])}; }

}  // namespace mox::test
