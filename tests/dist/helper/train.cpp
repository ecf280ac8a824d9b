// mox_dist_helper train: a small CNN (no dropout, no batch norm: the per-rank result must not
// depend on how the global batch is split) on a fixed synthetic dataset, trained by mox::run.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "dist/communicator.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/run/data_parallel.h"
#include "nn/sequential.h"
#include "tests/dist/helper/helper.h"

namespace mox::dist_helper {
namespace {

// Fails this rank at a step, as the test asked.
class FaultHook : public Hook {
 public:
  FaultHook(std::string kind, int64_t step) : kind_(std::move(kind)), step_(step) {}
  void after_step(const StepContext& ctx) override {
    if (ctx.global_step != step_) return;
    std::cerr << "injecting fault '" << kind_ << "' at step " << step_ << std::endl;
    if (kind_ == "throw") throw Error("injected failure at step " + std::to_string(step_));
    if (kind_ == "exit") std::_Exit(3);
    if (kind_ == "kill") raise(SIGKILL);
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // hang
  }

 private:
  std::string kind_;
  int64_t step_;
};

std::shared_ptr<nn::Sequential> make_model(int64_t hidden) {
  auto m = std::make_shared<nn::Sequential>();
  m->add(std::make_shared<nn::Conv2d>(1, 4, 3, nn::ConvOptions{.activation = "relu"}));
  m->add(std::make_shared<nn::MaxPool2d>(2));
  m->add(std::make_shared<nn::Flatten>());
  m->add(std::make_shared<nn::Linear>(4 * 3 * 3, hidden, nn::LinearOptions{.activation = "relu"}));
  m->add(std::make_shared<nn::Linear>(hidden, 5));
  return m;
}

}  // namespace

int train(const Options& o) {
  dist::LaunchInfo place = dist::launch_info();
  // The same data on every rank; labels from a fixed projection so there is something to learn.
  manual_seed(7);
  const int64_t n = 640;
  Tensor images = randn({n, 1, 8, 8});
  Tensor labels = argmax(matmul(images.reshape({n, 64}), randn({64, 5})), 1);
  // Each rank starts from other weights: the broadcast from rank 0 must make them equal.
  manual_seed(100 + uint64_t(place.rank));
  bool odd = o.mismatch && place.rank == o.fault_rank;
  auto model = make_model(odd ? 24 : 16);

  std::shared_ptr<DataParallel> dp;
  if (place.size > 1) {
    DataParallelOptions dpo;
    dpo.variable_update = o.variable_update;
    dpo.allreduce = o.allreduce;
    dpo.bucket_bytes = std::max<int64_t>(1, int64_t(o.bucket_mb * 1024 * 1024));
    dpo.overlap = o.overlap;
    dpo.ranks_per_node = o.ranks_per_node;
    dp = DataParallel::world(dpo);
  }
  RunArgs a;
  a.input_fn = [&](ModeKeys, int64_t bs) {
    return data::batches({images, labels}, {.batch_size = bs, .shuffle = true, .seed = 3, .num_epochs = -1});
  };
  std::shared_ptr<FaultHook> fault;
  if (!o.fault.empty() && place.rank == o.fault_rank) fault = std::make_shared<FaultHook>(o.fault, o.fault_step);
  a.model_fn = [&](const Batch& b, ModeKeys) {
    ModelSpec spec;
    spec.loss = cross_entropy((*model)(b[0]), b[1]);
    if (fault) spec.hooks.push_back(fault);
    return spec;
  };
  a.optimizer_fn = nn::get_optimizer_fn("momentum", 0.05, {{"momentum", 0.9}});
  a.model = model;
  a.batch_size = o.batch_size;
  a.max_number_of_steps = o.steps;
  a.log_every_n_steps = 4;
  a.data_parallel = dp;
  RunResult r = run(a);
  if (place.rank == 0 && !o.out.empty()) {
    nn::Checkpoint ck;
    ck.tensors = model->state_dict();
    ck.metadata["steps"] = std::to_string(r.global_step);
    nn::save_checkpoint(o.out, ck);
  }
  std::cout << "rank " << place.rank << " of " << place.size << ": trained " << r.global_step << " steps, loss "
            << r.metrics["loss"] << std::endl;
  return 0;
}

}  // namespace mox::dist_helper
