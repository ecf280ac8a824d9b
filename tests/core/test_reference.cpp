// Runs every case in tests/data/ref_*.json (written by tests/ref/make_reference.py with
// PyTorch) through the op registry: forward results against PyTorch's, input gradients against
// PyTorch's, a numerical gradient check in f64 on contiguous and strided inputs, and f16/bf16
// runs against the f32 reference. The coverage test fails when an op of the op table has no
// case or no gradient check.
#include <filesystem>
#include <fstream>
#include <set>

#include "core/ops/op_list.h"
#include "tests/support/check.h"

using nlohmann::json;

namespace mox::test {
namespace {

DType parse_dtype(const std::string& s) {
  static const std::map<std::string, DType> names = {
      {"f32", DType::f32}, {"f64", DType::f64}, {"i64", DType::i64}, {"i32", DType::i32},
      {"bool", DType::boolean}, {"u8", DType::u8}};
  return names.at(s);
}

Tensor decode(const json& j) {
  if (j.is_null()) return Tensor();
  return from_vector(j["data"].get<std::vector<double>>(), j["shape"].get<Shape>(),
                     opts(parse_dtype(j["dtype"])));
}

std::vector<std::filesystem::path> reference_files() {
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(MOX_TEST_DATA)) {
    std::string name = e.path().filename().string();
    if (name.rfind("ref_", 0) == 0 && e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

json load(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

TensorList float_outputs(const TensorList& outs) {
  TensorList r;
  for (const Tensor& o : outs)
    if (o.defined() && o.is_floating_point()) r.push_back(o);
  return r;
}

// Casts floating inputs to dtype; other inputs (indices, masks) stay as they are.
TensorList cast_floats(const TensorList& in, DType dtype) {
  TensorList r;
  for (const Tensor& t : in) r.push_back(t.defined() && t.is_floating_point() ? t.to(dtype) : t);
  return r;
}

struct Counts {
  int cases = 0, gradchecks = 0, lowp = 0;
};

void run_case(const json& c, const OpEntry& entry, Counts& counts) {
  ++counts.cases;
  std::string name = c["name"];
  INFO("case: ", name);
  TensorList inputs;
  for (const json& j : c["inputs"]) inputs.push_back(decode(j));
  std::vector<bool> wants = c["requires_grad"].get<std::vector<bool>>();
  const json& args = c["args"];
  Tolerance tol = tolerance_for(DType::f32);
  if (c.contains("tol")) tol = {c["tol"].get<double>(), c["tol"].get<double>()};

  // Forward, and gradients against PyTorch's.
  TensorList in = inputs;
  for (size_t i = 0; i < in.size(); ++i)
    if (wants[i]) in[i] = in[i].detach().clone().requires_grad_(true);
  TensorList outs = entry.fn(in, args);
  REQUIRE(outs.size() == c["outputs"].size());
  for (size_t k = 0; k < outs.size(); ++k) {
    Tensor expected = decode(c["outputs"][k]);
    INFO("output ", k);
    CHECK(outs[k].dtype() == (expected.is_floating_point() ? DType::f32 : outs[k].dtype()));
    CHECK_ALLCLOSE(outs[k], expected, tol);
  }
  if (c.contains("grads")) {
    TensorList diff = float_outputs(outs), gouts;
    for (const json& g : c["grad_outputs"]) gouts.push_back(decode(g));
    REQUIRE(diff.size() == gouts.size());
    run_backward(diff, gouts, false);
    for (size_t i = 0; i < in.size(); ++i) {
      if (c["grads"][i].is_null()) continue;
      INFO("gradient of input ", i);
      CHECK_ALLCLOSE(in[i].grad(), decode(c["grads"][i]), tol);
    }
  }

  // Numerical gradient check in f64, on dense and on strided inputs.
  if (entry.differentiable && c.contains("grads")) {
    for (bool strided : {false, true}) {
      TensorList x = cast_floats(inputs, DType::f64);
      for (size_t i = 0; i < x.size(); ++i) {
        if (strided && x[i].defined()) x[i] = noncontiguous_copy(x[i]);
        if (wants[i]) x[i] = (strided ? x[i] : x[i].clone()).requires_grad_(true);
      }
      std::string msg = gradcheck([&](const TensorList& xs) { return entry.fn(xs, args); }, x);
      ++counts.gradchecks;
      INFO((strided ? "strided inputs" : "dense inputs"));
      CHECK_MESSAGE(msg.empty(), "gradcheck: ", msg);
    }
  }

  // Low precision: the same op in f16 and bf16 stays within their precision of f32.
  if (c["lowp"].get<bool>()) {
    for (DType dt : {DType::f16, DType::bf16}) {
      ++counts.lowp;
      NoGradGuard no_grad;
      TensorList x = cast_floats(inputs, dt);
      TensorList o = entry.fn(x, args);
      for (size_t k = 0; k < o.size(); ++k) {
        INFO("dtype ", dtype_name(dt), " output ", k);
        if (!o[k].is_floating_point()) continue;
        CHECK(o[k].dtype() == dt);
        CHECK_ALLCLOSE(o[k].to(DType::f32), decode(c["outputs"][k]), tolerance_for(dt));
      }
    }
  }
}

}  // namespace

TEST_CASE("reference: every case matches PyTorch and passes gradcheck") {
  auto files = reference_files();
  REQUIRE(!files.empty());
  Counts counts;
  for (const auto& file : files) {
    json doc = load(file);
    for (const json& c : doc["cases"]) {
      std::string op = c["op"];
      INFO("file: ", file.filename().string(), ", op: ", op);
      auto it = op_registry().find(op);
      REQUIRE_MESSAGE(it != op_registry().end(), "op ", op, " has no entry in the test registry");
      run_case(c, it->second, counts);
    }
  }
  MESSAGE(counts.cases, " reference cases, ", counts.gradchecks, " gradient checks (dense and strided), ",
          counts.lowp, " f16/bf16 runs");
}

TEST_CASE("coverage: every op in the op table has a reference case and a gradient check") {
  std::set<std::string> with_case, with_gradcheck;
  for (const auto& file : reference_files()) {
    json doc = load(file);
    for (const json& c : doc["cases"]) {
      std::string op = c["op"];
      with_case.insert(op);
      auto it = op_registry().find(op);
      if (it != op_registry().end() && it->second.differentiable && c.contains("grads"))
        with_gradcheck.insert(op);
    }
  }
#define MOX_X(name)                                                                       \
  CHECK_MESSAGE(with_case.count(#name), "op " #name " has no PyTorch reference case");    \
  CHECK_MESSAGE(with_gradcheck.count(#name), "op " #name " has no gradient check");
  MOX_DIFFERENTIABLE_OPS(MOX_X)
#undef MOX_X
#define MOX_X(name) CHECK_MESSAGE(with_case.count(#name), "op " #name " has no PyTorch reference case");
  MOX_NONDIFFERENTIABLE_OPS(MOX_X)
#undef MOX_X
}

}  // namespace mox::test
