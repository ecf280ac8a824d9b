// Where the loader's examples come from: a list of shards, each read in one piece by one
// reader thread. A raw image dataset has one shard per image file; a record dataset one shard
// per record file (read in order, like TF's parallel_interleave over files).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "io/data/example.h"
#include "io/data/raw_metadata.h"

namespace mox::data {

struct Source {
  using Emit = std::function<void(Example&&)>;
  int64_t num_shards = 0;
  // Reads shard i, passing each example to emit; returns the bytes it read from storage.
  // Throws (IOError, formats::RecordError) on missing or damaged data.
  std::function<int64_t(int64_t shard, const Emit& emit)> read;
  int64_t num_classes = 0;
  bool multilabel = false;  // labels are sets of classes (multi-hot batches)
  std::string description;  // for messages: the folder or files it reads
};

// Examples holding each file's encoded bytes and its labels.
Source files_source(std::vector<LabeledFile> files, int64_t num_classes, bool multilabel, std::string description);
Source raw_source(const ImageClassificationRawMetadata& m);
Source raw_source(const MultilabelClassificationRawMetadata& m);

// Record files (io/formats/record.h) whose payloads are serialized examples.
Source record_source(std::vector<std::string> files, int64_t num_classes, bool multilabel);
// The *.rec files of a folder (tools/mox_records output), num_classes from its labels.txt.
Source record_dir_source(const std::string& dir, bool multilabel = false);

}  // namespace mox::data
