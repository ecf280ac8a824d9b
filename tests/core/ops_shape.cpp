// Registry entries for the shape and reduction families (cases in tests/ref/cases_shape.py
// and cases_reduction.py).
#include "tests/support/check.h"

namespace mox::test {
namespace {
Shape dims_arg(const nlohmann::json& args) {
  return args.contains("dims") ? args["dims"].get<Shape>() : Shape{};
}
bool keepdim_arg(const nlohmann::json& args) { return args.value("keepdim", false); }
}  // namespace

MOX_TEST_OP(concat, true) { return {concat(in, args["dim"])}; }
MOX_TEST_OP(stack, true) { return {stack(in, args["dim"])}; }
MOX_TEST_OP(split, true) {
  return args.contains("sizes") ? split_sizes(in[0], args["sizes"].get<std::vector<int64_t>>(), args["dim"])
                                : split(in[0], args["size"], args["dim"]);
}
MOX_TEST_OP(pad, true) { return {pad(in[0], args["pads"].get<std::vector<int64_t>>(), args["value"])}; }
MOX_TEST_OP(reshape, true) { return {in[0].reshape(args["shape"].get<Shape>())}; }
MOX_TEST_OP(transpose, true) { return {in[0].transpose(args["d0"], args["d1"])}; }
MOX_TEST_OP(permute, true) { return {in[0].permute(args["dims"].get<Shape>())}; }
MOX_TEST_OP(slice, true) {
  return {in[0].slice(args["dim"], args["start"], args["end"], args.value("step", 1))};
}
MOX_TEST_OP(select, true) { return {in[0].select(args["dim"], args["index"])}; }
MOX_TEST_OP(expand, true) { return {in[0].expand(args["shape"].get<Shape>())}; }
MOX_TEST_OP(squeeze, true) {
  return {args.contains("dim") ? in[0].squeeze(args["dim"].get<int64_t>()) : in[0].squeeze()};
}
MOX_TEST_OP(unsqueeze, true) { return {in[0].unsqueeze(args["dim"])}; }
MOX_TEST_OP(flatten, true) { return {in[0].flatten(args["start"], args["end"])}; }
// A transposed input made dense: the gradient comes back through the copy.
MOX_TEST_OP(contiguous, true) { return {in[0].t().contiguous()}; }
MOX_TEST_OP(sum_to, true) { return {sum_to(in[0], args["shape"].get<Shape>())}; }

MOX_TEST_OP(sum, true) { return {sum(in[0], dims_arg(args), keepdim_arg(args))}; }
MOX_TEST_OP(mean, true) { return {mean(in[0], dims_arg(args), keepdim_arg(args))}; }
MOX_TEST_OP(var, true) { return {var(in[0], dims_arg(args), args["unbiased"], keepdim_arg(args))}; }
MOX_TEST_OP(std, true) { return {mox::std(in[0], dims_arg(args), args["unbiased"], keepdim_arg(args))}; }
MOX_TEST_OP(amax, true) { return {amax(in[0], dims_arg(args), keepdim_arg(args))}; }
MOX_TEST_OP(amin, true) { return {amin(in[0], dims_arg(args), keepdim_arg(args))}; }
MOX_TEST_OP(max, true) {
  auto r = max(in[0], args["dim"], keepdim_arg(args));
  return {r.values, r.indices};
}
MOX_TEST_OP(min, true) {
  auto r = min(in[0], args["dim"], keepdim_arg(args));
  return {r.values, r.indices};
}
MOX_TEST_OP(argmax, false) { return {argmax(in[0], args["dim"], keepdim_arg(args))}; }
MOX_TEST_OP(argmin, false) { return {argmin(in[0], args["dim"], keepdim_arg(args))}; }
MOX_TEST_OP(logsumexp, true) { return {logsumexp(in[0], dims_arg(args), keepdim_arg(args))}; }

}  // namespace mox::test
