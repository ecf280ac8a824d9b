#include "io/data/loader.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>

#include "io/data/image.h"
#include "io/formats/record.h"

namespace mox::data {
namespace {

constexpr size_t kCacheFileBytes = size_t(32) << 20;  // a reader starts a new cache file past this
constexpr size_t kMaxSkipReasons = 16;

struct Item {
  Example ex;
  std::exception_ptr err;
  bool end = false;
};

// Blocks producers while `cap` items wait and the consumer while none does; close() wakes both.
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t cap) : cap_(std::max<size_t>(cap, 1)) {}
  bool push(Item&& it) {
    std::unique_lock lk(mu_);
    not_full_.wait(lk, [&] { return closed_ || q_.size() < cap_; });
    if (closed_) return false;
    q_.push_back(std::move(it));
    not_empty_.notify_one();
    return true;
  }
  std::optional<Item> pop() {
    std::unique_lock lk(mu_);
    not_empty_.wait(lk, [&] { return closed_ || !q_.empty(); });
    if (q_.empty()) return std::nullopt;
    Item it = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return it;
  }
  void close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Item> q_;
  size_t cap_;
  bool closed_ = false;
};

struct Stopped {};  // unwinds a reader when the loader is destroyed

std::atomic<int64_t> g_loader_id{0};

}  // namespace

struct Loader::State {
  Source src;
  LoaderOptions o;
  BoundedQueue q;
  std::atomic<bool> stop{false}, failed{false};
  mutable std::mutex mu;  // guards stats and cache_files
  LoaderStats stats;
  std::string cache_path;
  std::vector<std::string> cache_files;
  std::thread coordinator;
  // consumer side
  std::vector<Example> buffer;
  std::mt19937_64 rng;
  bool ended = false;

  State(Source s, LoaderOptions opt) : src(std::move(s)), o(std::move(opt)), q(size_t(o.capacity)), rng(o.seed) {}

  void skip(const std::string& why) {
    std::lock_guard lk(mu);
    ++stats.skipped;
    if (stats.skip_reasons.size() < kMaxSkipReasons) stats.skip_reasons.push_back(why);
  }

  void remove_cache() {
    if (!cache_path.empty() && o.remove_cache_on_finish) {
      std::error_code ec;
      std::filesystem::remove_all(cache_path, ec);
    }
  }

  // Decodes, resizes, caches and queues one example.
  void take(Example&& ex, bool from_cache, int reader, formats::RecordWriter*& cache, int& chunk,
            std::vector<std::unique_ptr<formats::RecordWriter>>& writers) {
    if (stop) throw Stopped{};
    if (o.decode && !ex.image.defined()) {
      try {
        ex.image = decode_image(ex.encoded, o.channels, ex.name);
      } catch (const IOError& e) {
        if (o.on_bad_input == OnBadInput::kRaise) throw;
        skip(e.what());
        return;
      }
      ex.encoded = std::string();
      if (o.image_height > 0 && o.image_width > 0) ex.image = resize_nearest(ex.image, o.image_height, o.image_width);
    }
    if (!cache_path.empty() && !from_cache) {
      if (cache == nullptr || cache->bytes() > kCacheFileBytes) {
        writers.push_back(std::make_unique<formats::RecordWriter>(cache_path + "/r" + std::to_string(reader) + "-" +
                                                                  std::to_string(chunk++) + ".rec"));
        cache = writers.back().get();
      }
      cache->write(serialize_example(ex));
    }
    {
      std::lock_guard lk(mu);
      ++(from_cache ? stats.from_cache : stats.from_source);
    }
    if (!q.push(Item{std::move(ex), nullptr, false})) throw Stopped{};
  }

  void read_shards(const Source& s, bool from_cache, const std::vector<int64_t>& order, std::atomic<int64_t>& next,
                   int reader) {
    formats::RecordWriter* cache = nullptr;
    int chunk = 0;
    std::vector<std::unique_ptr<formats::RecordWriter>> writers;
    auto emit = [&](Example&& ex) { take(std::move(ex), from_cache, reader, cache, chunk, writers); };
    try {
      for (int64_t i; !stop && !failed && (i = next++) < int64_t(order.size());) {
        try {
          int64_t bytes = s.read(order[size_t(i)], emit);
          if (!from_cache) {
            std::lock_guard lk(mu);
            stats.source_bytes += bytes;
          }
        } catch (const Error& e) {
          if (o.on_bad_input == OnBadInput::kRaise) throw;
          skip(e.what());
        }
      }
      std::vector<std::string> done;
      for (auto& w : writers) {
        w->close();
        done.push_back(w->url());
      }
      std::lock_guard lk(mu);
      cache_files.insert(cache_files.end(), done.begin(), done.end());
    } catch (const Stopped&) {
    } catch (...) {
      failed = true;
      q.push(Item{Example(), std::current_exception(), false});
    }
  }

  void run() {
    for (int64_t e = 0; (o.num_epochs < 0 || e < o.num_epochs) && !stop && !failed; ++e) {
      bool from_cache = !cache_files.empty();
      Source s = from_cache ? record_source(cache_files, src.num_classes, src.multilabel) : src;
      std::vector<int64_t> order(size_t(s.num_shards));
      std::iota(order.begin(), order.end(), 0);
      if (o.shuffle) std::shuffle(order.begin(), order.end(), std::mt19937_64(o.seed * 1000003 + uint64_t(e)));
      int64_t before = stats_now().from_source + stats_now().from_cache;
      std::atomic<int64_t> next{0};
      std::vector<std::thread> readers;
      for (int r = 0; r < std::min<int64_t>(o.num_readers, s.num_shards); ++r)
        readers.emplace_back([&, r] { read_shards(s, from_cache, order, next, r); });
      for (std::thread& t : readers) t.join();
      if (stop || failed) break;
      LoaderStats now = stats_now();
      if (now.from_source + now.from_cache == before) {  // nothing left to repeat
        failed = true;
        q.push(Item{Example(), std::make_exception_ptr(IOError(detail::cat(
                                   "Loader: epoch ", e, " of ", src.description, " gave no examples (", now.skipped,
                                   " skipped", now.skip_reasons.empty() ? "" : ", first: " + now.skip_reasons[0], ")"))),
                    false});
        break;
      }
      std::lock_guard lk(mu);
      ++stats.epochs_done;
      if (!cache_path.empty()) std::sort(cache_files.begin(), cache_files.end());
    }
    if (!stop) {
      q.push(Item{Example(), nullptr, true});
      if (!failed) remove_cache();
    }
  }

  LoaderStats stats_now() const {
    std::lock_guard lk(mu);
    return stats;
  }
};

Loader::Loader(Source source, LoaderOptions o) {
  MOX_CHECK(o.batch_size > 0, "Loader", "batch_size must be positive, got ", o.batch_size);
  MOX_CHECK(o.num_readers > 0, "Loader", "num_readers must be positive, got ", o.num_readers);
  MOX_CHECK(o.capacity > 0, "Loader", "capacity must be positive, got ", o.capacity);
  MOX_CHECK(o.shuffle_buffer_size > 0, "Loader", "shuffle_buffer_size must be positive, got ", o.shuffle_buffer_size);
  MOX_CHECK(!o.label_one_hot || !source.multilabel, "Loader", "label_one_hot is for single-label data; ",
            "multilabel batches are multi-hot already");
  MOX_CHECK_T(IOError, source.num_shards > 0, "Loader", "no examples in ", source.description);
  st_ = std::make_shared<State>(std::move(source), std::move(o));
  if (!st_->o.cache_dir.empty()) {
    st_->cache_path = st_->o.cache_dir + "/mox-cache-" + std::to_string(::getpid()) + "-" + std::to_string(g_loader_id++);
    std::filesystem::create_directories(st_->cache_path);
  }
  st_->coordinator = std::thread([s = st_.get()] { s->run(); });
}

Loader::~Loader() {
  st_->stop = true;
  st_->q.close();
  st_->coordinator.join();
  st_->remove_cache();
}

LoaderStats Loader::stats() const { return st_->stats_now(); }
const std::string& Loader::cache_path() const { return st_->cache_path; }

namespace {

ExampleBatch assemble(std::vector<Example>& picked, const Source& src, const LoaderOptions& o) {
  ExampleBatch b;
  int64_t n = int64_t(picked.size());
  for (Example& e : picked) b.names.push_back(e.name);
  if (o.decode) {
    Shape one = picked[0].image.sizes();
    for (const Example& e : picked)
      MOX_CHECK_T(ShapeError, e.image.sizes() == one, "Loader", "images in a batch differ in size: ", picked[0].name,
                  " is ", shape_str(one), ", ", e.name, " is ", shape_str(e.image.sizes()),
                  " (set image_height and image_width to resize)");
    Shape shape = one;
    shape.insert(shape.begin(), n);
    b.images = empty(shape, opts(DType::u8));
    size_t each = size_t(picked[0].image.numel());
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(b.images.data_ptr<uint8_t>() + size_t(i) * each, picked[size_t(i)].image.contiguous().data_ptr<uint8_t>(), each);
  } else {
    for (Example& e : picked) b.encoded.push_back(std::move(e.encoded));
  }
  bool hot = src.multilabel || o.label_one_hot;
  b.labels = hot ? zeros({n, src.num_classes}, opts(DType::f32)) : empty({n}, opts(DType::i64));
  for (int64_t i = 0; i < n; ++i) {
    const Example& e = picked[size_t(i)];
    MOX_CHECK_T(IOError, src.multilabel || e.labels.size() == 1, "Loader", e.name, " has ", e.labels.size(),
                " labels; single-label data needs one");
    for (int64_t l : e.labels) {
      MOX_CHECK_T(IndexError, l >= 0 && l < src.num_classes, "Loader", e.name, ": label ", l, " is out of range for ",
                  src.num_classes, " classes");
      if (hot) b.labels.data_ptr<float>()[i * src.num_classes + l] = 1.0f;
      else b.labels.data_ptr<int64_t>()[i] = l;
    }
  }
  return b;
}

}  // namespace

std::optional<ExampleBatch> Loader::next() {
  State& s = *st_;
  size_t want = s.o.shuffle ? size_t(s.o.shuffle_buffer_size) : 1;
  std::vector<Example> picked;
  while (int64_t(picked.size()) < s.o.batch_size) {
    while (!s.ended && s.buffer.size() < want) {
      std::optional<Item> it = s.q.pop();
      if (!it || it->end) {
        s.ended = true;
        break;
      }
      if (it->err) std::rethrow_exception(it->err);
      s.buffer.push_back(std::move(it->ex));
    }
    if (s.buffer.empty()) break;
    size_t k = s.o.shuffle ? size_t(s.rng() % s.buffer.size()) : 0;
    picked.push_back(std::move(s.buffer[k]));
    if (k + 1 != s.buffer.size()) s.buffer[k] = std::move(s.buffer.back());
    s.buffer.pop_back();
  }
  if (picked.empty() || (s.o.drop_remainder && int64_t(picked.size()) < s.o.batch_size)) return std::nullopt;
  return assemble(picked, s.src, s.o);
}

Loader ImageClassificationRawDataset(const ImageClassificationRawMetadata& metadata, LoaderOptions options) {
  return Loader(raw_source(metadata), std::move(options));
}

Loader MultilabelClassificationRawDataset(const MultilabelClassificationRawMetadata& metadata, LoaderOptions options) {
  return Loader(raw_source(metadata), std::move(options));
}

}  // namespace mox::data
