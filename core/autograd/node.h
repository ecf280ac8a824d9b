// The autograd graph (after PyTorch's torch/csrc/autograd/function.h and edge.h): a Node turns
// the gradients of its outputs into gradients of its inputs; an Edge points from a node to the
// node that produced one of its inputs. Leaves end in an AccumulateGrad node. Releasing a long
// chain of nodes is iterative (see ~Node), so deep graphs never overflow the stack.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mox {

struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;  // which of fn's outputs this edge feeds
  bool valid() const { return fn != nullptr; }
};

// Shape, dtype and device of a tensor, kept without its data.
struct TensorMeta {
  Shape sizes;
  DType dtype = DType::f32;
  Device device;
};

struct Node {
  Node();
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // grads has one entry per output; entries may be undefined (no gradient reached them).
  virtual TensorList apply(TensorList&& grads) = 0;
  virtual std::string name() const = 0;
  // Drops saved tensors after a backward pass that did not ask to keep the graph.
  virtual void release() {}

  std::vector<Edge> next_edges;     // one per input
  std::vector<TensorMeta> inputs;   // to shape and type the gradients returned
  std::vector<TensorMeta> outputs;  // to fill in gradients that never arrived
  uint64_t sequence_nr;             // creation order; later nodes run first
  // Non-leaf outputs that asked to keep their gradient (Tensor::retain_grad).
  std::vector<std::pair<uint32_t, std::weak_ptr<TensorImpl>>> retained;
};

// A tensor kept for backward: a detached alias plus the storage version at save time, so use
// after an in-place write is a clear error rather than a wrong gradient.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  Tensor unpack(const std::string& op) const;
  bool defined() const { return data_.defined(); }

 private:
  Tensor data_;
  uint64_t version_ = 0;
};

// The node most ops record: a closure computing input gradients from output gradients.
// needs[i] says whether input i wants a gradient, so costly unused ones can be skipped.
using BackwardFn = std::function<TensorList(const TensorList& grads, const std::vector<bool>& needs)>;

class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, BackwardFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return name_; }
  void release() override { fn_ = nullptr; }

 private:
  std::string name_;
  BackwardFn fn_;
};

// Ends every path at a leaf: adds the gradient into leaf.grad and runs the leaf's hooks.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(Tensor leaf);
  TensorList apply(TensorList&& grads) override;
  std::string name() const override { return "AccumulateGrad"; }

 private:
  Tensor leaf_;
};

struct AutogradMeta {
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  uint32_t output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;
  std::vector<std::function<void(const Tensor&)>> hooks;
};

// --- recording (used by core/ops)

bool grad_mode_enabled();
// True when grad mode is on and some input requires grad: the op should record a node.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const TensorList& inputs);
// Connects node to inputs and makes it the grad_fn of outputs.
void record(const std::shared_ptr<Node>& node, const TensorList& inputs, const TensorList& outputs);
// The usual case: records a FunctionNode when needed and returns out.
Tensor record_op(const char* name, const TensorList& inputs, Tensor out, BackwardFn fn);
TensorList record_op(const char* name, const TensorList& inputs, TensorList outs, BackwardFn fn);
// The edge a gradient for t should flow along (its grad_fn, or its leaf accumulator).
Edge gradient_edge(const Tensor& t);

// Runs backward from roots (iteratively, with a ready queue).
void run_backward(const TensorList& roots, const TensorList& grads, bool retain_graph);

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace mox
