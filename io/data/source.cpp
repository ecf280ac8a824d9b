#include "io/data/source.h"

#include <memory>

#include "io/data/storage.h"
#include "io/formats/record.h"

namespace mox::data {

Source files_source(std::vector<LabeledFile> files, int64_t num_classes, bool multilabel, std::string description) {
  auto shared = std::make_shared<const std::vector<LabeledFile>>(std::move(files));
  Source s;
  s.num_shards = int64_t(shared->size());
  s.num_classes = num_classes;
  s.multilabel = multilabel;
  s.description = std::move(description);
  s.read = [shared](int64_t i, const Source::Emit& emit) -> int64_t {
    const LabeledFile& f = (*shared)[size_t(i)];
    Example e{f.url, read_file(f.url), Tensor(), f.labels};
    int64_t n = int64_t(e.encoded.size());
    emit(std::move(e));
    return n;
  };
  return s;
}

Source raw_source(const ImageClassificationRawMetadata& m) {
  return files_source(m.samples(), m.num_classes(), false, m.base_dir());
}

Source raw_source(const MultilabelClassificationRawMetadata& m) {
  return files_source(m.samples(), m.num_classes(), true, "multilabel folder");
}

Source record_source(std::vector<std::string> files, int64_t num_classes, bool multilabel) {
  auto shared = std::make_shared<const std::vector<std::string>>(std::move(files));
  Source s;
  s.num_shards = int64_t(shared->size());
  s.num_classes = num_classes;
  s.multilabel = multilabel;
  s.description = shared->empty() ? "no record files" : "record files like " + shared->front();
  s.read = [shared](int64_t i, const Source::Emit& emit) -> int64_t {
    formats::RecordReader r = formats::RecordReader::open((*shared)[size_t(i)]);
    for (uint64_t at = 0; auto payload = r.next(); at = r.offset())
      emit(parse_example(*payload, r.name() + " (record at byte offset " + std::to_string(at) + ")"));
    return int64_t(r.offset());
  };
  return s;
}

Source record_dir_source(const std::string& dir, bool multilabel) {
  std::vector<std::string> files;
  for (const DirItem& e : list_dir(dir))
    if (!e.is_dir && e.name.size() > 4 && e.name.ends_with(".rec")) files.push_back(join(dir, e.name));
  MOX_CHECK_T(IOError, !files.empty(), "record_dir_source", "no *.rec files in ", dir);
  std::string labels = join(dir, "labels.txt");
  MOX_CHECK_T(IOError, exists(labels), "record_dir_source", labels, " is missing (it gives the classes)");
  int64_t classes = int64_t(parse_labels_file(read_file(labels), labels).size());
  return record_source(std::move(files), classes, multilabel);
}

}  // namespace mox::data
