// Every op case of tests/data/ref_*.json run in f16 and bf16, forward and backward, against the
// same op in f32 on the same rounded inputs and output gradients: low-precision results may
// differ from f32 only by the rounding of the values they produce (kernels accumulate in f32),
// and integer or bool results (indices, comparisons, masks) must be identical. The PyTorch
// values of those files are checked by tests/core/test_reference.cpp; here they are only the
// source of inputs and arguments.
#include <filesystem>
#include <fstream>

#include "tests/support/check.h"

namespace mox::test {
namespace {

// A JSON tensor of the reference files, rounded to dtype when it is floating.
Tensor decode_rounded(const nlohmann::json& j, DType dtype) {
  if (j.is_null()) return Tensor();
  static const std::map<std::string, DType> names = {{"f32", DType::f32}, {"f64", DType::f64},
                                                     {"i64", DType::i64}, {"i32", DType::i32},
                                                     {"bool", DType::boolean}, {"u8", DType::u8}};
  Tensor t = from_vector(j["data"].get<std::vector<double>>(), j["shape"].get<Shape>(),
                         opts(names.at(j["dtype"])));
  return t.is_floating_point() ? t.to(dtype) : t;
}

struct Result {
  TensorList outputs, grads;
};

// The op on inputs in dtype dt; backward with the case's output gradients (in dt) when it has
// some.
Result run(const OpEntry& op, const nlohmann::json& c, DType in_dt, DType dt) {
  std::vector<bool> wants = c["requires_grad"].get<std::vector<bool>>();
  TensorList in;
  for (size_t i = 0; i < c["inputs"].size(); ++i) {
    Tensor t = decode_rounded(c["inputs"][i], in_dt);  // rounded once, then in dt
    if (t.defined() && t.is_floating_point()) t = t.to(dt);
    if (wants[i]) t = t.detach().requires_grad_(true);
    in.push_back(t);
  }
  Result r;
  r.outputs = op.fn(in, c["args"]);
  if (c.contains("grads") && op.differentiable) {
    TensorList outs, gouts;
    for (const Tensor& o : r.outputs)
      if (o.defined() && o.is_floating_point()) outs.push_back(o);
    for (const nlohmann::json& g : c["grad_outputs"]) gouts.push_back(decode_rounded(g, in_dt).to(dt));
    run_backward(outs, gouts, false);
    for (size_t i = 0; i < in.size(); ++i) r.grads.push_back(wants[i] ? in[i].grad() : Tensor());
  }
  return r;
}

Tolerance scaled(DType dt, const Tensor& ref) {
  Tolerance t = tolerance_for(dt);
  double peak = 0;
  for (double v : ref.tolist()) peak = std::max(peak, std::abs(v));
  return {t.rtol, t.atol * std::max(1.0, peak)};
}

// Floating results come in the inputs' dtype, unless the op was asked for one (one_hot).
void compare(const TensorList& low, const TensorList& ref, DType dt, bool fixed_dtype, const char* what) {
  REQUIRE(low.size() == ref.size());
  for (size_t k = 0; k < low.size(); ++k) {
    INFO(what, " ", k);
    REQUIRE(low[k].defined() == ref[k].defined());
    if (!ref[k].defined()) continue;
    if (!ref[k].is_floating_point()) {
      CHECK(low[k].dtype() == ref[k].dtype());
      CHECK(low[k].tolist() == ref[k].tolist());
      continue;
    }
    CHECK(low[k].dtype() == (fixed_dtype ? ref[k].dtype() : dt));
    CHECK_ALLCLOSE(low[k].to(DType::f32), ref[k], scaled(dt, ref[k]));
  }
}

}  // namespace

TEST_CASE("mixed precision: every op case runs forward and backward in f16 and bf16 like f32") {
  int cases = 0;
  for (auto& e : std::filesystem::directory_iterator(MOX_TEST_DATA)) {
    std::string file = e.path().filename().string();
    if (file.rfind("ref_", 0) != 0 || e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    nlohmann::json doc = nlohmann::json::parse(in);
    for (const nlohmann::json& c : doc["cases"]) {
      auto it = op_registry().find(c["op"].get<std::string>());
      REQUIRE(it != op_registry().end());
      for (DType dt : {DType::f16, DType::bf16}) {
        INFO(file, ": ", c["name"].get<std::string>(), " in ", std::string(dtype_name(dt)));
        // Random ops draw the same numbers for every dtype from the same seed.
        manual_seed(11);
        Result ref = run(it->second, c, dt, DType::f32);
        manual_seed(11);
        Result low = run(it->second, c, dt, dt);
        bool fixed = c["args"].contains("dtype");
        compare(low.outputs, ref.outputs, dt, fixed, "output");
        compare(low.grads, ref.grads, dt, false, "gradient of input");
        ++cases;
      }
    }
  }
  CHECK(cases > 300);
}

}  // namespace mox::test
