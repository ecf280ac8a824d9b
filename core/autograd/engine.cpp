// The backward engine: counts dependencies over the graph reachable from the roots, then runs
// nodes from a ready queue (latest-created first). Nothing here recurses.
#include <atomic>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "core/autograd/node.h"
#include "core/ops.h"

namespace mox {
namespace {

thread_local bool grad_enabled = true;
std::atomic<uint64_t> next_sequence_nr{0};

TensorMeta meta_of(const Tensor& t) { return {t.sizes(), t.dtype(), t.device()}; }

void accumulate(Tensor& slot, const Tensor& g) {
  if (!g.defined()) return;
  slot = slot.defined() ? add(slot, g) : g;
}

}  // namespace

bool grad_mode_enabled() { return grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(grad_enabled) { grad_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_enabled = prev_; }

Node::Node() : sequence_nr(next_sequence_nr.fetch_add(1)) {}

// Dropping the last reference to the head of a long chain would destroy the chain
// recursively. Instead each destructor hands its edges to a per-thread list, and only the
// outermost destructor drains it.
Node::~Node() {
  thread_local std::vector<std::shared_ptr<Node>> pending;
  thread_local bool draining = false;
  for (Edge& e : next_edges)
    if (e.fn) pending.push_back(std::move(e.fn));
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n.reset();  // may run ~Node, which only appends to pending
  }
  draining = false;
}

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  data_ = t.detach();
  version_ = t.version();
}

Tensor SavedTensor::unpack(const std::string& op) const {
  if (data_.defined() && data_.version() != version_)
    throw AutogradError(detail::cat(
        op, ": a tensor saved for backward (", data_.str(), ") was modified in place after it ",
        "was saved (version ", data_.version(), ", saved at ", version_,
        "); clone it before the in-place op"));
  return data_;
}

TensorList FunctionNode::apply(TensorList&& grads) {
  if (!fn_)
    throw AutogradError(name_ + ": backward through the graph a second time; pass "
                        "retain_graph=true to the first backward() to keep it");
  std::vector<bool> needs(next_edges.size());
  for (size_t i = 0; i < needs.size(); ++i) needs[i] = next_edges[i].valid();
  // Multi-output nodes see zeros for the outputs no gradient reached.
  if (grads.size() > 1)
    for (size_t i = 0; i < grads.size(); ++i)
      if (!grads[i].defined())
        grads[i] = zeros(outputs[i].sizes, opts(outputs[i].dtype, outputs[i].device));
  TensorList out = fn_(grads, needs);
  MOX_CHECK_T(AutogradError, out.size() == inputs.size(), name_, "backward returned ", out.size(),
              " gradients for ", inputs.size(), " inputs");
  // Broadcast inputs get their gradient summed back to their own shape and type.
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].defined() || !needs[i]) {
      out[i] = Tensor();
      continue;
    }
    if (out[i].sizes() != inputs[i].sizes) out[i] = sum_to(out[i], inputs[i].sizes);
    if (out[i].dtype() != inputs[i].dtype) out[i] = out[i].to(inputs[i].dtype);
  }
  return out;
}

AccumulateGrad::AccumulateGrad(Tensor leaf) : leaf_(std::move(leaf)) {
  inputs = {};
  outputs = {meta_of(leaf_)};
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  const Tensor& g = grads[0];
  if (!g.defined()) return {};
  AutogradMeta& meta = *leaf_.impl()->autograd;
  if (!meta.grad.defined())
    meta.grad = g.to(leaf_.dtype()).clone();
  else
    meta.grad.add_(g);
  for (auto& hook : meta.hooks) hook(meta.grad);
  return {};
}

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const TensorList& inputs) {
  if (!grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.impl()->autograd) return {};
  AutogradMeta& meta = *t.impl()->autograd;
  if (meta.grad_fn) return {meta.grad_fn, meta.output_nr};
  if (!meta.requires_grad) return {};
  std::shared_ptr<Node> acc = meta.grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    meta.grad_accumulator = acc;
  }
  return {acc, 0};
}

void record(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs) {
  node->next_edges.clear();
  node->inputs.clear();
  for (const Tensor& t : inputs) {
    node->next_edges.push_back(t.defined() && t.requires_grad() ? gradient_edge(t) : Edge{});
    node->inputs.push_back(t.defined() ? meta_of(t) : TensorMeta{});
  }
  node->outputs.clear();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    node->outputs.push_back(meta_of(out));
    if (!out.defined() || !is_floating(out.dtype())) continue;  // indices carry no gradient
    TensorImpl* impl = out.impl();
    if (!impl->autograd) impl->autograd = std::make_unique<AutogradMeta>();
    impl->autograd->requires_grad = true;
    impl->autograd->grad_fn = node;
    impl->autograd->output_nr = uint32_t(i);
  }
}

Tensor record_op(const char* name, const TensorList& inputs, Tensor out, BackwardFn fn) {
  if (needs_grad(inputs)) record(std::make_shared<FunctionNode>(name, std::move(fn)), inputs, {out});
  return out;
}

TensorList record_op(const char* name, const TensorList& inputs, TensorList outs, BackwardFn fn) {
  if (needs_grad(inputs)) record(std::make_shared<FunctionNode>(name, std::move(fn)), inputs, outs);
  return outs;
}

void run_backward(const TensorList& roots, const TensorList& grads, bool retain_graph) {
  NoGradGuard no_grad;  // gradient formulas are not themselves recorded
  std::unordered_map<Node*, TensorList> buffers;
  std::unordered_map<Node*, int> deps;
  std::vector<std::shared_ptr<Node>> root_nodes;

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    Edge e = gradient_edge(r);
    MOX_CHECK_T(AutogradError, e.valid(), "backward",
                "tensor ", r.str(), " does not require grad and has no grad_fn");
    Tensor g = grads[i];
    if (!g.defined()) {
      MOX_CHECK_T(AutogradError, r.numel() == 1, "backward", "grad can be implicit only for ",
                  "scalar outputs; got ", r.str(), ", pass a gradient of that shape");
      g = ones_like(r);
    }
    MOX_CHECK_T(ShapeError, g.sizes() == r.sizes(), "backward", "gradient shape ",
                shape_str(g.sizes()), " does not match output shape ", shape_str(r.sizes()));
    TensorList& buf = buffers[e.fn.get()];
    buf.resize(std::max<size_t>(e.fn->outputs.size(), 1));
    accumulate(buf[e.input_nr], g);
    root_nodes.push_back(e.fn);
  }

  // Count, for every reachable node, how many edges lead into it.
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;
  for (auto& n : root_nodes)
    if (seen.insert(n.get()).second) stack.push_back(n.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.valid()) continue;
      ++deps[e.fn.get()];
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }

  auto later_first = [](Node* a, Node* b) { return a->sequence_nr < b->sequence_nr; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> ready(later_first);
  std::unordered_set<Node*> queued;
  for (auto& n : root_nodes)
    if (deps[n.get()] == 0 && queued.insert(n.get()).second) ready.push(n.get());

  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    TensorList in = std::move(buffers[n]);
    buffers.erase(n);
    in.resize(std::max<size_t>(n->outputs.size(), 1));
    bool any = false;
    for (const Tensor& g : in) any = any || g.defined();
    for (auto& [nr, weak] : n->retained)
      if (auto impl = weak.lock(); impl && in[nr].defined()) accumulate(impl->autograd->grad, in[nr]);
    TensorList out;
    if (any) out = n->apply(std::move(in));
    if (!retain_graph) n->release();
    out.resize(n->next_edges.size());
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.valid()) continue;
      TensorList& buf = buffers[e.fn.get()];
      buf.resize(std::max<size_t>(e.fn->outputs.size(), 1));
      accumulate(buf[e.input_nr], out[i]);
      if (--deps[e.fn.get()] == 0) ready.push(e.fn.get());
    }
  }
}

}  // namespace mox
