// Registry entries for the elementwise, activation and shape families (cases in
// tests/ref/cases_elementwise.py and cases_shape.py).
#include "tests/support/check.h"

namespace mox::test {

#define MOX_BINARY_ENTRY(name, diff) \
  MOX_TEST_OP(name, diff) { return {name(in[0], in[1])}; }
MOX_BINARY_ENTRY(add, true)
MOX_BINARY_ENTRY(sub, true)
MOX_BINARY_ENTRY(mul, true)
MOX_BINARY_ENTRY(div, true)
MOX_BINARY_ENTRY(pow, true)
MOX_BINARY_ENTRY(maximum, true)
MOX_BINARY_ENTRY(minimum, true)
MOX_BINARY_ENTRY(eq, false)
MOX_BINARY_ENTRY(ne, false)
MOX_BINARY_ENTRY(lt, false)
MOX_BINARY_ENTRY(le, false)
MOX_BINARY_ENTRY(gt, false)
MOX_BINARY_ENTRY(ge, false)
#undef MOX_BINARY_ENTRY

#define MOX_UNARY_ENTRY(name) \
  MOX_TEST_OP(name, true) { return {name(in[0])}; }
MOX_UNARY_ENTRY(neg)
MOX_UNARY_ENTRY(exp)
MOX_UNARY_ENTRY(log)
MOX_UNARY_ENTRY(sqrt)
MOX_UNARY_ENTRY(rsqrt)
MOX_UNARY_ENTRY(abs)
MOX_UNARY_ENTRY(relu)
MOX_UNARY_ENTRY(relu6)
MOX_UNARY_ENTRY(sigmoid)
MOX_UNARY_ENTRY(tanh)
MOX_UNARY_ENTRY(gelu)
MOX_UNARY_ENTRY(softplus)
#undef MOX_UNARY_ENTRY

MOX_TEST_OP(leaky_relu, true) { return {leaky_relu(in[0], args["slope"])}; }
MOX_TEST_OP(elu, true) { return {elu(in[0], args["alpha"])}; }
MOX_TEST_OP(clamp, true) { return {clamp(in[0], args["lo"], args["hi"])}; }
MOX_TEST_OP(add_scalar, true) { return {add(in[0], args["value"].get<double>())}; }
MOX_TEST_OP(mul_scalar, true) { return {mul(in[0], args["value"].get<double>())}; }
MOX_TEST_OP(pow_scalar, true) { return {pow(in[0], args["exponent"].get<double>())}; }
MOX_TEST_OP(where, true) { return {where(in[0], in[1], in[2])}; }
// Round trip through another dtype (f64 keeps gradcheck exact; the case picks).
MOX_TEST_OP(cast, true) {
  DType via = args["via"] == "f64" ? DType::f64 : DType::f32;
  return {in[0].to(via).to(in[0].dtype())};
}

}  // namespace mox::test
