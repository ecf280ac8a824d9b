#include "dist/reducer.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace mox::dist {

namespace {

struct Slot {
  std::string name;
  Tensor param;
  size_t bucket = 0;
  int64_t offset = 0;
  int hits = 0;  // hook calls in this pass
};

struct Bucket {
  Tensor flat;
  std::vector<size_t> slots;
  size_t pending = 0;  // slots whose gradient has not arrived
  bool done = false;  // reduced (set by the worker)
};

}  // namespace

struct GradientReducer::State {
  std::shared_ptr<Communicator> comm;
  BucketOptions o;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  double weight = 1;
  bool active = false, repack = false;
  size_t next_launch = 0;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> queue;
  bool stopping = false;
  std::exception_ptr failure;
  std::thread worker;

  void pack(Slot& s) {
    Tensor dst = buckets[s.bucket].flat.narrow(0, s.offset, s.param.numel());
    Tensor g = s.param.grad();
    if (!g.defined()) {
      dst.mul_(0.0);
      return;
    }
    dst.copy_(g.reshape({-1}));
    if (weight != 1) dst.mul_(weight);
  }

  // With mu held: hands ready buckets to the worker, in order.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) queue.push_back(next_launch++);
    cv.notify_all();
  }

  void run_worker() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;
      size_t b = queue.front();
      queue.pop_front();
      lock.unlock();
      std::exception_ptr err;
      try {
        comm->allreduce(buckets[b].flat, ReduceOp::sum);
      } catch (...) {
        err = std::current_exception();
      }
      lock.lock();
      if (err && !failure) failure = err;
      buckets[b].done = true;
      cv.notify_all();
    }
  }

  void on_grad(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    if (!active) return;
    Slot& s = slots[i];
    if (++s.hits > 1) {
      repack = true;  // its bucket may already be on the wire: finish() starts over
      return;
    }
    pack(s);
    --buckets[s.bucket].pending;
    launch_ready();
  }

  void wait_all() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] {
      for (size_t b = 0; b < next_launch; ++b)
        if (!buckets[b].done) return false;
      return true;
    });
    if (failure) std::rethrow_exception(failure);
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Communicator> comm, NamedTensors params, BucketOptions o)
    : st_(std::make_shared<State>()) {
  MOX_CHECK_T(DistError, comm != nullptr, "GradientReducer", "needs a communicator");
  MOX_CHECK_T(DistError, o.bucket_bytes > 0, "GradientReducer", "bucket_bytes must be positive, got ", o.bucket_bytes);
  State& st = *st_;
  st.comm = std::move(comm);
  st.o = o;
  int64_t bytes = 0;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Tensor& p = it->second;
    MOX_CHECK_T(DistError, p.requires_grad() && p.is_leaf(), "GradientReducer", "parameter '", it->first,
                "' is not a leaf that requires grad");
    int64_t nbytes = p.numel() * int64_t(dtype_size(p.dtype()));
    bool fresh = st.buckets.empty() || bytes + nbytes > o.bucket_bytes ||
                 st.slots[st.buckets.back().slots.front()].param.dtype() != p.dtype();
    if (fresh) {
      st.buckets.emplace_back();
      bytes = 0;
    }
    Bucket& b = st.buckets.back();
    st.slots.push_back({it->first, p, st.buckets.size() - 1, bytes / int64_t(dtype_size(p.dtype())), 0});
    b.slots.push_back(st.slots.size() - 1);
    bytes += nbytes;
  }
  for (Bucket& b : st.buckets) {
    const Slot& last = st.slots[b.slots.back()];
    b.flat = zeros({last.offset + last.param.numel()}, opts(last.param.dtype(), st.comm->device()));
  }
  std::weak_ptr<State> weak = st_;
  for (size_t i = 0; i < st.slots.size(); ++i)
    st.slots[i].param.register_hook([weak, i](const Tensor&) {
      if (auto s = weak.lock()) s->on_grad(i);
    });
  st.worker = std::thread([s = st_.get()] { s->run_worker(); });
}

GradientReducer::~GradientReducer() {
  {
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->stopping = true;
    st_->active = false;
  }
  st_->cv.notify_all();
  st_->worker.join();
}

void GradientReducer::prepare(double weight) {
  State& st = *st_;
  st.wait_all();  // a previous pass that threw may have left buckets on the wire
  std::lock_guard<std::mutex> lock(st.mu);
  st.weight = weight;
  st.repack = false;
  st.next_launch = 0;
  for (Slot& s : st.slots) s.hits = 0;
  for (Bucket& b : st.buckets) {
    b.pending = b.slots.size();
    b.done = false;
  }
  st.active = st.o.overlap;
}

void GradientReducer::finish() {
  State& st = *st_;
  {
    std::lock_guard<std::mutex> lock(st.mu);
    st.active = false;
  }
  st.wait_all();
  {
    std::lock_guard<std::mutex> lock(st.mu);
    if (st.repack) {
      // Gradients changed after their bucket left: reduce everything again, from .grad.
      st.next_launch = 0;
      for (Bucket& b : st.buckets) b.pending = b.slots.size(), b.done = false;
      for (Slot& s : st.slots) s.hits = 0;
    }
    for (Slot& s : st.slots)
      if (s.hits == 0) {
        st.pack(s);
        --st.buckets[s.bucket].pending;
      }
    st.launch_ready();
  }
  st.wait_all();
  for (Slot& s : st.slots) {
    Tensor g = st.buckets[s.bucket].flat.narrow(0, s.offset, s.param.numel()).reshape(s.param.sizes());
    s.param.set_grad(g.device() == s.param.device() ? g.clone() : g.to(s.param.device()));
  }
}

std::vector<std::vector<std::string>> GradientReducer::buckets() const {
  std::vector<std::vector<std::string>> out;
  for (const Bucket& b : st_->buckets) {
    out.emplace_back();
    for (size_t i : b.slots) out.back().push_back(st_->slots[i].name);
  }
  return out;
}

}  // namespace mox::dist
