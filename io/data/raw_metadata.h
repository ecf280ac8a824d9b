// The manual's metadata for image datasets kept as plain files (seed 001, 1.3.2.2 and 1.3.2.6),
// for local folders and s3:// prefixes alike.
//
// ImageClassificationRawMetadata: base_dir/<label>/<image> (a folder per label) and an optional
// labels.txt fixing the label order, one "index: name" per line:
//     0: label_i
//     1: label_j
// Without labels.txt the labels are the folder names in sorted order.
//
// MultilabelClassificationRawMetadata: base_dir/images/<image> and base_dir/labels/<image>.txt
// holding that image's label names; an optional labels.txt "0: label_i 1: label_j ..." fixes
// the order (else the sorted union of all names).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace mox::data {

struct LabeledFile {
  std::string url;
  std::vector<int64_t> labels;
};

// True for the extensions stb_image decodes (jpg, jpeg, png, bmp, gif), any case.
bool is_image_name(const std::string& name);

// Parses "index: name" entries (one per line, or several on a line when names hold no spaces)
// into names by index; throws IOError naming `where` on a malformed entry, a duplicate or a gap.
std::vector<std::string> parse_labels_file(const std::string& text, const std::string& where);

class ImageClassificationRawMetadata {
 public:
  // Throws IOError when base_dir is missing or holds no label folders, or when labels.txt
  // disagrees with the folders (the message lists what differs).
  explicit ImageClassificationRawMetadata(std::string base_dir, std::string labels_filename = "labels.txt");
  int64_t total_num_samples() const { return int64_t(samples_.size()); }
  int64_t num_classes() const { return int64_t(labels_.size()); }
  const std::vector<std::string>& labels_list() const { return labels_; }
  const std::vector<LabeledFile>& samples() const { return samples_; }
  const std::string& base_dir() const { return base_dir_; }

 private:
  std::string base_dir_;
  std::vector<std::string> labels_;
  std::vector<LabeledFile> samples_;
};

struct MultilabelOptions {
  std::string images_sub_dir = "images", labels_sub_dir = "labels", labels_extension = "txt";
  std::string labels_filename = "labels.txt";
  // Separator between names in a label file; '\n' (the manual's default) splits on any
  // whitespace, so "a b" and "a\nb" both hold two labels.
  char label_sep = '\n';
  // Leave out images without a label file instead of failing.
  bool skip_label_not_found = false;
};

class MultilabelClassificationRawMetadata {
 public:
  explicit MultilabelClassificationRawMetadata(std::string base_dir, MultilabelOptions o = {});
  int64_t total_num_samples() const { return int64_t(samples_.size()); }
  int64_t num_classes() const { return int64_t(labels_.size()); }
  const std::vector<std::string>& labels_to_names() const { return labels_; }
  std::map<std::string, int64_t> names_to_labels() const;
  const std::vector<LabeledFile>& samples() const { return samples_; }
  int64_t num_skipped() const { return skipped_; }  // images left out for want of a label file

 private:
  std::vector<std::string> labels_;
  std::vector<LabeledFile> samples_;
  int64_t skipped_ = 0;
};

}  // namespace mox::data
