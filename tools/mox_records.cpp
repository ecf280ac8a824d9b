// mox_records: converts a raw image folder (local or s3://) into record files, the
// TFRecord-framed format of io/formats/record.h that the loader reads with record_dir_source.
//   mox_records --src=s3://bucket/flowers/train --dst=/data/flowers-rec --records_per_file=5000
// The source is an ImageClassificationRaw folder (base/<label>/<image>, optional labels.txt)
// or, with --multilabel, a MultilabelClassificationRaw folder (images/, labels/*.txt).
#include <CLI/CLI.hpp>

#include <iostream>

#include "io/data/convert.h"

int main(int argc, char** argv) {
  CLI::App app{"Convert a raw image folder (local path or s3:// URL) into record files plus labels.txt"};
  std::string src, dst;
  bool multilabel = false, skip_label_not_found = false;
  mox::data::ConvertOptions o;
  app.add_option("--src", src, "raw dataset folder: <label>/<image> (or images/ + labels/ with --multilabel)")->required();
  app.add_option("--dst", dst, "folder for the record files and labels.txt")->required();
  app.add_option("--name", o.name, "record file name prefix")->capture_default_str();
  app.add_option("--records_per_file", o.records_per_file, "records in each file")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "files read in parallel")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_flag("--multilabel", multilabel, "the source is a multilabel folder (images/, labels/<image>.txt)");
  app.add_flag("--skip_label_not_found", skip_label_not_found, "multilabel: leave out images without a label file");
  CLI11_PARSE(app, argc, argv);
  try {
    std::vector<mox::data::LabeledFile> samples;
    std::vector<std::string> labels;
    if (multilabel) {
      mox::data::MultilabelClassificationRawMetadata m(src, {.skip_label_not_found = skip_label_not_found});
      samples = m.samples();
      labels = m.labels_to_names();
    } else {
      mox::data::ImageClassificationRawMetadata m(src);
      samples = m.samples();
      labels = m.labels_list();
    }
    mox::data::ConvertResult r = mox::data::write_records(samples, labels, dst, o);
    std::cout << "wrote " << r.records << " records (" << r.bytes << " bytes, " << labels.size() << " classes) in "
              << r.files.size() << " files under " << dst << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mox_records: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
