// Whole-object access for the data layer, through mox::file: local paths and s3:// URLs alike.
// Datasets, record files and the idx reader go through these few calls only.
#pragma once
#include <string>
#include <vector>

namespace mox::data {

// The bytes of a file; mox::IOError naming the URL when it is missing or unreadable.
std::string read_file(const std::string& url);
// Creates or replaces the file (parent folders are created for local paths).
void write_file(const std::string& url, const std::string& bytes);
bool exists(const std::string& url);
bool is_dir(const std::string& url);
struct DirItem {
  std::string name;  // not a path; folders without a trailing '/'
  bool is_dir = false;
};
// The entries directly under dir, sorted by name.
std::vector<DirItem> list_dir(const std::string& dir);
// dir + "/" + name, without doubling a trailing slash.
std::string join(const std::string& dir, const std::string& name);

}  // namespace mox::data
