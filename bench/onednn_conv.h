// oneDNN (Debian's libdnnl, f32, OpenMP runtime) as bench_conv's in-process peer: one
// convolution's forward, backward-data and backward-weights primitives, each in the memory
// layouts oneDNN prefers (format_tag::any), with the NCHW inputs reordered into them once, so
// timing run() measures the primitive alone. dnnl.hpp stays inside onednn_conv.cpp.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace mox::bench {

struct ConvShape {
  int64_t n, c, h, w, out_c, k, stride, pad, groups;
  int64_t oh() const { return (h + 2 * pad - k) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - k) / stride + 1; }
};

enum class ConvPass { forward, backward_data, backward_weights };
constexpr ConvPass kConvPasses[] = {ConvPass::forward, ConvPass::backward_data, ConvPass::backward_weights};
const char* pass_name(ConvPass p);  // "fwd", "bwd_data", "bwd_weight"

// What the linked oneDNN says of itself.
struct OnednnInfo {
  std::string version;  // "2.6.3 (commit ...)"
  std::string runtime;  // CPU threading runtime: "OpenMP", "TBB", ...
  std::string isa;      // dnnl::get_effective_cpu_isa(): "avx512_core", ...
};
OnednnInfo onednn_info();

class OnednnConv {
 public:
  // x [n, c, h, w], w [out_c, c/groups, k, k] and gy [n, out_c, oh, ow] are dense f32 NCHW
  // (OIHW); they are copied into each primitive's layout here. `winograd` lets oneDNN choose
  // Winograd where it judges it faster (algorithm::convolution_auto), else direct convolution.
  OnednnConv(const ConvShape& s, const float* x, const float* w, const float* gy, bool winograd);
  ~OnednnConv();
  OnednnConv(const OnednnConv&) = delete;
  OnednnConv& operator=(const OnednnConv&) = delete;

  // Executes the pass's primitive once and waits for it (forward is forward_inference).
  void run(ConvPass p);
  // The pass's last result (y, dx or dw) reordered into out, NCHW / OIHW.
  void result(ConvPass p, float* out);
  // oneDNN's name for the implementation it chose, e.g. "brg:avx512_core" or "jit:avx512_core".
  std::string impl(ConvPass p) const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace mox::bench
