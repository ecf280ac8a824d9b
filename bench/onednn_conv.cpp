// oneDNN convolution primitives for bench_conv; see onednn_conv.h.
#include "bench/onednn_conv.h"

#include <dnnl.hpp>

#include <stdexcept>
#include <unordered_map>

namespace mox::bench {

using dnnl::memory;
using tag = memory::format_tag;

const char* pass_name(ConvPass p) {
  switch (p) {
    case ConvPass::forward: return "fwd";
    case ConvPass::backward_data: return "bwd_data";
    case ConvPass::backward_weights: return "bwd_weight";
  }
  return "?";
}

namespace {

std::string isa_name(dnnl::cpu_isa isa) {
  using I = dnnl::cpu_isa;
  switch (isa) {
    case I::all: return "all";
    case I::sse41: return "sse41";
    case I::avx: return "avx";
    case I::avx2: return "avx2";
    case I::avx512_mic: return "avx512_mic";
    case I::avx512_mic_4ops: return "avx512_mic_4ops";
    case I::avx512_core: return "avx512_core";
    case I::avx512_core_vnni: return "avx512_core_vnni";
    case I::avx512_core_bf16: return "avx512_core_bf16";
    case I::avx512_core_amx: return "avx512_core_amx";
    case I::avx2_vnni: return "avx2_vnni";
  }
  return "unknown (" + std::to_string(int(isa)) + ")";
}

std::string runtime_name(unsigned r) {
  switch (r) {
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
  }
  return "runtime " + std::to_string(r);
}

// One pass: its primitive with its arguments, and the memory its result lands in.
struct Pass {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  memory out;
  std::string impl;
};

}  // namespace

OnednnInfo onednn_info() {
  const dnnl_version_t* v = dnnl_version();
  return {std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
              " (commit " + v->hash + ")",
          runtime_name(v->cpu_runtime), isa_name(dnnl::get_effective_cpu_isa())};
}

struct OnednnConv::State {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  memory::dims src, wei, dst;
  tag wei_tag;
  Pass pass[3];

  // A memory in layout `want` holding the dense user data (described by user_tag), reordered
  // once, now.
  memory import(const memory::desc& want, const memory::dims& dims, tag user_tag, const float* data) {
    memory user({dims, memory::data_type::f32, user_tag}, eng, const_cast<float*>(data));
    memory m(want, eng);
    dnnl::reorder(user, m).execute(strm, user, m);
    strm.wait();
    return m;
  }
};

OnednnConv::OnednnConv(const ConvShape& s, const float* x, const float* w, const float* gy, bool winograd)
    : s_(std::make_unique<State>()) {
  State& st = *s_;
  const int64_t g = s.groups;
  st.src = {s.n, s.c, s.h, s.w};
  st.dst = {s.n, s.out_c, s.oh(), s.ow()};
  // Grouped weights carry the group as a leading dimension: [g, out_c/g, c/g, k, k].
  st.wei = g > 1 ? memory::dims{g, s.out_c / g, s.c / g, s.k, s.k} : memory::dims{s.out_c, s.c, s.k, s.k};
  st.wei_tag = g > 1 ? tag::goihw : tag::oihw;
  auto any = [](const memory::dims& d) { return memory::desc(d, memory::data_type::f32, tag::any); };
  const memory::dims strides{s.stride, s.stride}, pad{s.pad, s.pad};
  const auto algo = winograd ? dnnl::algorithm::convolution_auto : dnnl::algorithm::convolution_direct;
  try {
    using fwd = dnnl::convolution_forward;
    using bwd_data = dnnl::convolution_backward_data;
    using bwd_weights = dnnl::convolution_backward_weights;
    fwd::primitive_desc inf({dnnl::prop_kind::forward_inference, algo, any(st.src), any(st.wei), any(st.dst),
                             strides, pad, pad},
                            st.eng);
    // The backward primitives are described relative to a training forward.
    fwd::primitive_desc train({dnnl::prop_kind::forward_training, algo, any(st.src), any(st.wei),
                               any(st.dst), strides, pad, pad},
                              st.eng);
    bwd_data::primitive_desc bd({algo, any(st.src), any(st.wei), any(st.dst), strides, pad, pad}, st.eng, train);
    bwd_weights::primitive_desc bw({algo, any(st.src), any(st.wei), any(st.dst), strides, pad, pad}, st.eng,
                                   train);

    Pass& f = st.pass[int(ConvPass::forward)];
    f.prim = fwd(inf);
    f.out = memory(inf.dst_desc(), st.eng);
    f.args = {{DNNL_ARG_SRC, st.import(inf.src_desc(), st.src, tag::nchw, x)},
              {DNNL_ARG_WEIGHTS, st.import(inf.weights_desc(), st.wei, st.wei_tag, w)},
              {DNNL_ARG_DST, f.out}};
    f.impl = inf.impl_info_str();

    Pass& d = st.pass[int(ConvPass::backward_data)];
    d.prim = bwd_data(bd);
    d.out = memory(bd.diff_src_desc(), st.eng);
    d.args = {{DNNL_ARG_DIFF_DST, st.import(bd.diff_dst_desc(), st.dst, tag::nchw, gy)},
              {DNNL_ARG_WEIGHTS, st.import(bd.weights_desc(), st.wei, st.wei_tag, w)},
              {DNNL_ARG_DIFF_SRC, d.out}};
    d.impl = bd.impl_info_str();

    Pass& b = st.pass[int(ConvPass::backward_weights)];
    b.prim = bwd_weights(bw);
    b.out = memory(bw.diff_weights_desc(), st.eng);
    b.args = {{DNNL_ARG_SRC, st.import(bw.src_desc(), st.src, tag::nchw, x)},
              {DNNL_ARG_DIFF_DST, st.import(bw.diff_dst_desc(), st.dst, tag::nchw, gy)},
              {DNNL_ARG_DIFF_WEIGHTS, b.out}};
    b.impl = bw.impl_info_str();
  } catch (const dnnl::error& e) {
    throw std::runtime_error("oneDNN convolution " + std::to_string(s.n) + "x" + std::to_string(s.c) + "x" +
                             std::to_string(s.h) + "x" + std::to_string(s.w) + " -> " + std::to_string(s.out_c) +
                             " k" + std::to_string(s.k) + "/" + std::to_string(s.stride) + ": " + e.what());
  }
}

OnednnConv::~OnednnConv() = default;

void OnednnConv::run(ConvPass p) {
  Pass& ps = s_->pass[int(p)];
  ps.prim.execute(s_->strm, ps.args);
  s_->strm.wait();
}

void OnednnConv::result(ConvPass p, float* out) {
  State& st = *s_;
  const bool weights = p == ConvPass::backward_weights;
  const memory::dims& dims = p == ConvPass::forward ? st.dst : weights ? st.wei : st.src;
  memory user({dims, memory::data_type::f32, weights ? st.wei_tag : tag::nchw}, st.eng, out);
  dnnl::reorder(st.pass[int(p)].out, user).execute(st.strm, st.pass[int(p)].out, user);
  st.strm.wait();
}

std::string OnednnConv::impl(ConvPass p) const { return s_->pass[int(p)].impl; }

}  // namespace mox::bench
