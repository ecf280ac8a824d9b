// The input pipeline of the manual's *RawDataset / *TFRecordDataset (seed 001, 1.3.2.3):
// num_readers threads read shards of a Source and decode them, a bounded prefetch queue of
// `capacity` examples, a shuffle buffer, num_epochs repetitions, batching with drop_remainder,
// one-hot labels, and a local cache: with cache_dir, the first epoch reads the source (S3 or
// local) and writes what it produced (decoded images, or the bytes when not decoding) to record
// files under cache_dir; later epochs read those instead of the source.
//
// Bad data — an image that does not decode, a truncated or corrupt record, a file that cannot
// be read — raises IOError (naming the file, and the byte offset for records) at the next()
// that reaches it, or with on_bad_input = kSkip is left out and counted in stats().skipped. A
// record file is skipped from the damaged record on (its framing is lost there).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/data/source.h"

namespace mox::data {

enum class OnBadInput { kRaise, kSkip };

struct LoaderOptions {
  int64_t batch_size = 32;
  int num_readers = 8;
  int64_t num_epochs = -1;  // -1: repeat forever (the manual's None)
  bool shuffle = true;
  int64_t shuffle_buffer_size = 16;
  int64_t capacity = 256;  // prefetched examples waiting for the consumer
  uint64_t seed = 0;
  bool drop_remainder = false;
  bool label_one_hot = false;
  bool decode = true;  // false: examples keep the file bytes (the manual's "bytes" reading)
  int channels = 0;    // decode to this many channels; 0: as stored
  int64_t image_height = 0, image_width = 0;  // nearest-neighbour resize when both > 0
  std::string cache_dir{};  // empty: no cache
  bool remove_cache_on_finish = true;
  OnBadInput on_bad_input = OnBadInput::kRaise;
};

struct ExampleBatch {
  Tensor images;  // u8 [B, H, W, C] when decoding (see to_nchw_float)
  std::vector<std::string> encoded;  // the file bytes when not decoding
  // i64 [B] class indices; f32 [B, num_classes] one-hot with label_one_hot, multi-hot for
  // multilabel sources.
  Tensor labels;
  std::vector<std::string> names;
  int64_t size() const { return int64_t(names.size()); }
};

struct LoaderStats {
  int64_t from_source = 0;    // examples read from the source
  int64_t from_cache = 0;     // examples read from the cache
  int64_t source_bytes = 0;   // bytes read from the source
  int64_t skipped = 0;        // bad images, records or files left out (kSkip)
  std::vector<std::string> skip_reasons;  // the first few messages
  int64_t epochs_done = 0;
};

class Loader {
 public:
  Loader(Source source, LoaderOptions options);
  ~Loader();  // stops the readers; removes the cache if asked
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;
  // The next batch, or nullopt when num_epochs are used up. Rethrows a reader's error.
  std::optional<ExampleBatch> next();
  LoaderStats stats() const;
  // The folder this loader caches into (under cache_dir), or "" without a cache.
  const std::string& cache_path() const;

  struct State;

 private:
  std::shared_ptr<State> st_;
};

// The manual's dataset names (seed 001, 1.3.2.3 and 1.3.2.7): a loader over the metadata's files.
Loader ImageClassificationRawDataset(const ImageClassificationRawMetadata& metadata, LoaderOptions options = {});
Loader MultilabelClassificationRawDataset(const MultilabelClassificationRawMetadata& metadata,
                                          LoaderOptions options = {});

}  // namespace mox::data
