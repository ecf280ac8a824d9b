#include "io/data/raw_metadata.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.h"
#include "io/data/storage.h"

namespace mox::data {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string strip_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Names in a but not in b, for messages.
std::string missing_from(const std::vector<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  for (const std::string& x : a)
    if (!b.count(x)) out += (out.empty() ? "" : ", ") + ("'" + x + "'");
  return out.empty() ? "none" : out;
}

std::vector<std::string> split_labels(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string t = trim(cur);
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (char c : text) {
    bool cut = sep == '\n' ? std::isspace(static_cast<unsigned char>(c)) != 0 : c == sep;
    if (cut) flush();
    else cur += c;
  }
  flush();
  return out;
}

}  // namespace

bool is_image_name(const std::string& name) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  static const std::set<std::string> kExt = {"jpg", "jpeg", "png", "bmp", "gif"};
  return kExt.count(lower(name.substr(dot + 1))) > 0;
}

std::vector<std::string> parse_labels_file(const std::string& text, const std::string& where) {
  // An entry starts where "<digits>:" follows the start of the text or whitespace.
  struct Entry {
    int64_t index;
    size_t name_begin, marker_begin;
  };
  std::vector<Entry> entries;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && !std::isspace(static_cast<unsigned char>(text[i - 1]))) continue;
    size_t j = i;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
    if (j == i || j >= text.size() || text[j] != ':' || j - i > 9) continue;
    entries.push_back({std::stoll(text.substr(i, j - i)), j + 1, i});
    i = j;
  }
  MOX_CHECK_T(IOError, !entries.empty() || trim(text).empty(), "labels file", where,
              ": no \"index: name\" entries found");
  MOX_CHECK_T(IOError, entries.empty() || trim(text.substr(0, entries[0].marker_begin)).empty(), "labels file",
              where, ": text before the first \"index: name\" entry");
  std::vector<std::string> names(entries.size());
  std::vector<bool> seen(entries.size(), false);
  for (size_t k = 0; k < entries.size(); ++k) {
    size_t end = k + 1 < entries.size() ? entries[k + 1].marker_begin : text.size();
    std::string name = trim(text.substr(entries[k].name_begin, end - entries[k].name_begin));
    int64_t idx = entries[k].index;
    MOX_CHECK_T(IOError, !name.empty(), "labels file", where, ": entry ", idx, " has no name");
    MOX_CHECK_T(IOError, idx < int64_t(entries.size()), "labels file", where, ": index ", idx, " ('", name,
                "') is out of range for ", entries.size(), " labels (indices must be 0..", entries.size() - 1, ")");
    MOX_CHECK_T(IOError, !seen[size_t(idx)], "labels file", where, ": index ", idx, " appears twice");
    seen[size_t(idx)] = true;
    names[size_t(idx)] = name;
  }
  std::set<std::string> unique(names.begin(), names.end());
  MOX_CHECK_T(IOError, unique.size() == names.size(), "labels file", where, ": a label name appears twice");
  return names;
}

ImageClassificationRawMetadata::ImageClassificationRawMetadata(std::string base_dir, std::string labels_filename)
    : base_dir_(strip_slash(std::move(base_dir))) {
  const char* op = "ImageClassificationRawMetadata";
  MOX_CHECK_T(IOError, is_dir(base_dir_), op, "base_dir ", base_dir_, " is not a directory");
  std::vector<std::string> folders;
  for (const DirItem& e : list_dir(base_dir_))
    if (e.is_dir) folders.push_back(e.name);
  MOX_CHECK_T(IOError, !folders.empty(), op, base_dir_, " holds no label folders (expected base_dir/<label>/<image>)");
  labels_ = folders;
  std::string labels_file = join(base_dir_, labels_filename);
  if (!labels_filename.empty() && exists(labels_file)) {
    labels_ = parse_labels_file(read_file(labels_file), labels_file);
    std::set<std::string> in_file(labels_.begin(), labels_.end()), on_disk(folders.begin(), folders.end());
    MOX_CHECK_T(IOError, in_file == on_disk, op, labels_file, " disagrees with the folders of ", base_dir_, ": ",
                labels_.size(), " labels in the file, ", folders.size(), " folders; in the file but no folder: ",
                missing_from(labels_, on_disk), "; folders not in the file: ", missing_from(folders, in_file));
  }
  for (size_t l = 0; l < labels_.size(); ++l) {
    std::string dir = join(base_dir_, labels_[l]);
    for (const DirItem& e : list_dir(dir))
      if (!e.is_dir && is_image_name(e.name)) samples_.push_back({join(dir, e.name), {int64_t(l)}});
  }
}

MultilabelClassificationRawMetadata::MultilabelClassificationRawMetadata(std::string base_dir, MultilabelOptions o) {
  const char* op = "MultilabelClassificationRawMetadata";
  base_dir = strip_slash(std::move(base_dir));
  std::string images = join(base_dir, o.images_sub_dir), labels = join(base_dir, o.labels_sub_dir);
  MOX_CHECK_T(IOError, is_dir(images), op, "image folder ", images, " is not a directory");
  MOX_CHECK_T(IOError, is_dir(labels), op, "label folder ", labels, " is not a directory");
  std::set<std::string> have;
  for (const DirItem& e : list_dir(labels)) have.insert(e.name);
  std::vector<std::pair<std::string, std::vector<std::string>>> named;  // image url, label names
  std::set<std::string> all_names;
  for (const DirItem& e : list_dir(images)) {
    const std::string& name = e.name;
    if (e.is_dir || !is_image_name(name)) continue;
    std::string label_name = name + "." + o.labels_extension;
    if (!have.count(label_name)) {
      MOX_CHECK_T(IOError, o.skip_label_not_found, op, "no label file ", join(labels, label_name), " for image ",
                  join(images, name), " (skip_label_not_found leaves such images out)");
      ++skipped_;
      continue;
    }
    std::vector<std::string> names = split_labels(read_file(join(labels, label_name)), o.label_sep);
    all_names.insert(names.begin(), names.end());
    named.emplace_back(join(images, name), std::move(names));
  }
  labels_.assign(all_names.begin(), all_names.end());
  std::string labels_file = join(base_dir, o.labels_filename);
  if (!o.labels_filename.empty() && exists(labels_file)) {
    labels_ = parse_labels_file(read_file(labels_file), labels_file);
    std::set<std::string> in_file(labels_.begin(), labels_.end());
    std::vector<std::string> used(all_names.begin(), all_names.end());
    MOX_CHECK_T(IOError, in_file == all_names, op, labels_file, " disagrees with the label files under ", labels,
                ": ", labels_.size(), " labels in the file, ", all_names.size(),
                " used; in the file but never used: ", missing_from(labels_, all_names),
                "; used but not in the file: ", missing_from(used, in_file));
  }
  std::map<std::string, int64_t> index = names_to_labels();
  for (auto& [url, names] : named) {
    LabeledFile f{url, {}};
    for (const std::string& n : names) f.labels.push_back(index.at(n));
    samples_.push_back(std::move(f));
  }
}

std::map<std::string, int64_t> MultilabelClassificationRawMetadata::names_to_labels() const {
  std::map<std::string, int64_t> m;
  for (size_t i = 0; i < labels_.size(); ++i) m[labels_[i]] = int64_t(i);
  return m;
}

}  // namespace mox::data
