// Registry entries for the normalization family (cases in tests/ref/cases_norm.py).
#include "tests/support/check.h"

namespace mox::test {

// Inputs: x, then weight and bias when args.affine, then running_mean and running_var when
// args.running. With args.clone_running the running statistics are updated on clones, which
// are returned after y (so repeated calls never change the case's inputs).
MOX_TEST_OP(batch_norm, true) {
  size_t k = 1;
  Tensor w, b, rm, rv;
  if (args["affine"].get<bool>()) {
    w = in[k++];
    b = in[k++];
  }
  if (args["running"].get<bool>()) {
    rm = in[k++];
    rv = in[k++];
  }
  bool clone_running = args.value("clone_running", false);
  if (clone_running) {
    rm = rm.clone();
    rv = rv.clone();
  }
  Tensor y = batch_norm(in[0], w, b, rm, rv, args["training"].get<bool>(),
                        args["momentum"].get<double>(), args["eps"].get<double>());
  if (clone_running) return {y, rm, rv};
  return {y};
}

// Reseeds first, so every call (gradcheck makes many) draws the same mask.
MOX_TEST_OP(dropout, true) {
  manual_seed(args["seed"].get<uint64_t>());
  return {dropout(in[0], args["p"].get<double>(), args["training"].get<bool>())};
}

}  // namespace mox::test
