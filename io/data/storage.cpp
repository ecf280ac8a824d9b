#include "io/data/storage.h"

#include <algorithm>
#include <filesystem>

#include "io/file/file.h"

namespace mox::data {

std::string read_file(const std::string& url) { return file::read(url); }

void write_file(const std::string& url, const std::string& bytes) {
  std::filesystem::path p(url);
  if (!file::is_s3_url(url) && p.has_parent_path()) file::make_dirs(p.parent_path().string());
  file::write(url, bytes);
}

bool exists(const std::string& url) { return file::exists(url); }
bool is_dir(const std::string& url) { return file::is_directory(url); }

std::vector<DirItem> list_dir(const std::string& dir) {
  MOX_CHECK_T(IOError, file::is_directory(dir), "list_dir", "not a directory: ", dir);
  std::vector<DirItem> items;
  for (const file::DirEntry& e : file::scan_dir(dir)) items.push_back({e.name, e.is_dir});
  std::sort(items.begin(), items.end(), [](const DirItem& a, const DirItem& b) { return a.name < b.name; });
  return items;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace mox::data
