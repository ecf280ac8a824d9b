// bench_gemm: Mox's CPU GEMM (kernels/cpu/gemm.cpp, through mox::matmul and optionally the raw
// kernel of kernels/linalg.h) against OpenBLAS cblas_sgemm / cblas_dgemm on square and skinny
// shapes, f32 and f64, in GFLOP/s (2*M*N*K flops per product) with the ratio Mox / OpenBLAS.
// OpenBLAS picks its kernels when it loads, from OPENBLAS_CORETYPE if set; the environment here
// sets it to Haswell, which halves OpenBLAS's speed on an AVX-512 CPU, so the program re-executes
// itself without that variable (and OPENBLAS_L2_SIZE) before OpenBLAS initializes, and prints
// the core OpenBLAS chose.
#include <cblas.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <type_traits>

#include "bench/common.h"
#include "core/ops.h"
#include "kernels/linalg.h"

using namespace mox;
using bench::json;

namespace {

constexpr const char* kRemovedEnv = "MOX_BENCH_REMOVED_ENV";

// Re-executes this program without the variables that slow OpenBLAS; they are recorded in
// MOX_BENCH_REMOVED_ENV for the report. Returns normally when none was set (or exec failed).
void scrub_openblas_env(char** argv) {
  std::string removed;
  for (const char* v : bench::kOpenblasSlowEnv)
    if (const char* val = std::getenv(v)) {
      removed += (removed.empty() ? "" : " ") + std::string(v) + "=" + val;
      unsetenv(v);
    }
  if (removed.empty()) return;
  setenv(kRemovedEnv, removed.c_str(), 1);
  execv("/proc/self/exe", argv);
  std::perror("bench_gemm: re-exec without OPENBLAS_CORETYPE failed");
}

struct Problem {
  int64_t m, k, n;
  std::string label() const {
    return std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
  }
};

std::vector<Problem> parse_problems(const std::vector<int64_t>& sizes, const std::vector<std::string>& shapes) {
  std::vector<Problem> out;
  for (int64_t s : sizes) out.push_back({s, s, s});
  for (const std::string& s : shapes) {
    Problem p{};
    char x1 = 0, x2 = 0;
    std::istringstream in(s);
    if (!(in >> p.m >> x1 >> p.k >> x2 >> p.n) || x1 != 'x' || x2 != 'x' || p.m <= 0 || p.k <= 0 || p.n <= 0)
      throw CLI::ValidationError("--shapes", "'" + s + "' is not MxKxN");
    out.push_back(p);
  }
  return out;
}

// Largest |a - b| over the largest |b|: how far Mox's product is from OpenBLAS's.
template <class T>
double rel_diff(const T* a, const T* b, int64_t n) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(double(a[i]) - double(b[i])));
    den = std::max(den, std::fabs(double(b[i])));
  }
  return den > 0 ? num / den : num;
}

template <class T>
json run_problem(const Problem& p, DType dt, const bench::Options& o, bool raw, bool peer) {
  Tensor a = randn({p.m, p.k}, opts(dt)), b = randn({p.k, p.n}, opts(dt));
  Tensor c_blas = zeros({p.m, p.n}, opts(dt)), c_raw = empty({p.m, p.n}, opts(dt));
  const double flop = 2.0 * double(p.m) * double(p.n) * double(p.k);
  json r = {{"dtype", dtype_name(dt)}, {"m", p.m}, {"k", p.k}, {"n", p.n}};

  // Mox through matmul (allocates C), the raw kernel, OpenBLAS: timed in turn, rep by rep.
  Tensor c_mox;
  std::vector<std::function<void()>> fns = {[&] { c_mox = matmul(a, b); }};
  if (raw) {
    GemmDesc d;
    d.dtype = dt;
    d.m = p.m, d.n = p.n, d.k = p.k;
    d.a = a.raw_data(), d.a_rs = p.k, d.a_cs = 1;
    d.b = b.raw_data(), d.b_rs = p.n, d.b_cs = 1;
    d.c = c_raw.raw_data(), d.c_rs = p.n, d.c_cs = 1;
    GemmFn* fn = gemm_stub.table[int(DeviceType::CPU)];
    fns.push_back([fn, d] { fn(d); });
  }
  const T* pa = a.data_ptr<T>();
  const T* pb = b.data_ptr<T>();
  T* pc = c_blas.data_ptr<T>();
  if (peer) {
    const int m = int(p.m), n = int(p.n), k = int(p.k);
    fns.push_back([=] {
      if constexpr (std::is_same_v<T, float>)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, pa, k, pb, n, 0.0f, pc, n);
      else
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, pa, k, pb, n, 0.0, pc, n);
    });
  }
  std::vector<double> t = bench::median_seconds_interleaved(fns, o.warmup, o.reps, 0.15);
  r["mox_gflops"] = flop / t[0] * 1e-9;
  r["mox_ms"] = t[0] * 1e3;
  if (raw) r["raw_gflops"] = flop / t[1] * 1e-9;
  std::optional<double> blas_gflops;
  if (peer) {
    blas_gflops = flop / t.back() * 1e-9;
    r["openblas_gflops"] = *blas_gflops;
    r["openblas_ms"] = t.back() * 1e3;
    r["rel_diff"] = rel_diff(c_mox.contiguous().data_ptr<T>(), pc, p.m * p.n);
  }
  r["ratio"] = bench::speed_ratio(r["mox_gflops"].get<double>(), blas_gflops);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  scrub_openblas_env(argv);

  CLI::App app{"bench_gemm: Mox GEMM (mox::matmul) vs OpenBLAS sgemm/dgemm, GFLOP/s and ratio"};
  bench::Options o;
  bench::add_common_options(app, o, false);
  std::vector<int64_t> sizes = {256, 512, 1024, 2048, 4096};
  // ResNet-50's convolutions as GEMMs for one image (out_c x in_c*kh*kw x oh*ow): the 3x3 of
  // each stage, the 1x1 reduce and expand of stage 2, and the classifier at batch 32.
  std::vector<std::string> shapes = {"64x576x3136", "128x1152x784", "256x2304x196", "512x4608x49",
                                     "64x256x3136", "256x64x3136", "32x2048x1000"};
  std::vector<std::string> dtypes = {"f32"};
  std::string isa;
  bool raw = false;
  app.add_option("--sizes", sizes, "square sizes N (N x N x N); 0: none")->delimiter(',')->capture_default_str();
  app.add_option("--shapes", shapes, "more shapes MxKxN: C[M,N] = A[M,K] B[K,N]")->delimiter(',')->capture_default_str();
  app.add_option("--dtype", dtypes, "element types")->delimiter(',')->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
  app.add_option("--isa", isa, "force Mox's micro-kernel family (default: widest supported)")
      ->check(CLI::IsMember({"scalar", "avx2", "avx512"}));
  app.add_flag("--raw", raw, "also time the raw kernel (gemm_stub, preallocated C, no Tensor)");
  CLI11_PARSE(app, argc, argv);
  if (sizes.size() == 1 && sizes[0] == 0) sizes.clear();  // --sizes 0: only --shapes

  try {
    bench::apply_threads(o);
    if (!isa.empty())
      cpu::set_gemm_isa(isa == "scalar" ? cpu::GemmIsa::scalar
                        : isa == "avx2" ? cpu::GemmIsa::avx2
                                        : cpu::GemmIsa::avx512);
    openblas_set_num_threads(o.threads);
    std::vector<Problem> problems = parse_problems(sizes, shapes);

    const char* removed = std::getenv(kRemovedEnv);
    json cond = bench::conditions(
        "bench_gemm", o,
        {{"dtypes", dtypes},
         {"shapes", "MxKxN, row-major, no transpose, alpha=1 beta=0"},
         {"timing_order", "Mox and OpenBLAS alternate rep by rep, 0.15 s pause after each call"},
         {"mox_path", raw ? "mox::matmul (allocates C) and raw gemm_stub" : "mox::matmul (allocates C)"},
         {"peer", o.no_peer ? "none" : "OpenBLAS cblas_?gemm (preallocated C)"},
         {"openblas_core", openblas_get_corename()},
         {"openblas_config", openblas_get_config()},
         {"openblas_threads", openblas_get_num_threads()},
         {"env_removed_for_openblas", removed ? removed : "none set"}});
    bench::print_conditions(cond);

    std::vector<int> w = {5, 14, 11, 13, 8, 9, 11};
    std::vector<std::string> head = {"dtype", "MxKxN", "mox GF/s", "openblas GF/s", "ratio", "rel_diff"};
    if (raw) head.push_back("raw GF/s");
    bench::print_row(head, w);
    json results = json::array();
    for (const std::string& ds : dtypes)
      for (const Problem& p : problems) {
        json r = ds == "f32" ? run_problem<float>(p, DType::f32, o, raw, !o.no_peer)
                             : run_problem<double>(p, DType::f64, o, raw, !o.no_peer);
        auto num = [&](const char* key, int prec) {
          return r.contains(key) ? bench::fmt(r[key].get<double>(), prec) : std::string("-");
        };
        std::vector<std::string> row = {ds, p.label(), num("mox_gflops", 1), num("openblas_gflops", 1),
                                        bench::ratio_str(r["ratio"]), bench::sci(r.value("rel_diff", -1.0))};
        if (raw) row.push_back(num("raw_gflops", 1));
        bench::print_row(row, w);
        results.push_back(r);
      }
    if (o.json) bench::print_json({{"conditions", cond}, {"results", results}});
  } catch (const std::exception& e) {
    std::cerr << "bench_gemm: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
