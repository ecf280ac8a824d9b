// Converts labelled image files into record files (io/formats/record.h) of serialized examples:
// dst/<name>-00000-of-000NN.rec ..., plus dst/labels.txt, the layout record_dir_source reads.
// Images are stored as their file bytes (decoded by the loader), like TFRecord image datasets.
#pragma once
#include <string>
#include <vector>

#include "io/data/raw_metadata.h"

namespace mox::data {

struct ConvertOptions {
  std::string name = "data";
  int64_t records_per_file = 10000;
  int threads = 8;  // files read in parallel (useful when the source is S3)
};

struct ConvertResult {
  std::vector<std::string> files;
  int64_t records = 0, bytes = 0;
};

ConvertResult write_records(const std::vector<LabeledFile>& samples, const std::vector<std::string>& label_names,
                            const std::string& dst, const ConvertOptions& o = {});

}  // namespace mox::data
