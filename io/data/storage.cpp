#include "io/data/storage.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace mox::data {
namespace fs = std::filesystem;

std::string read_file(const std::string& url) {
  std::ifstream in(url, std::ios::binary);
  MOX_CHECK_T(IOError, in && !fs::is_directory(url), "read_file", "cannot open ", url,
              fs::exists(url) ? "" : " (no such file)");
  std::ostringstream os;
  os << in.rdbuf();
  MOX_CHECK_T(IOError, !in.bad(), "read_file", "read error in ", url);
  return std::move(os).str();
}

void write_file(const std::string& url, const std::string& bytes) {
  fs::path p(url);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(url, std::ios::binary | std::ios::trunc);
  MOX_CHECK_T(IOError, bool(out), "write_file", "cannot create ", url);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  MOX_CHECK_T(IOError, bool(out), "write_file", "write error in ", url);
}

bool exists(const std::string& url) { return fs::exists(url); }
bool is_dir(const std::string& url) { return fs::is_directory(url); }

std::vector<DirItem> list_dir(const std::string& dir) {
  MOX_CHECK_T(IOError, fs::is_directory(dir), "list_dir", "not a directory: ", dir);
  std::vector<DirItem> items;
  for (const auto& e : fs::directory_iterator(dir)) items.push_back({e.path().filename().string(), e.is_directory()});
  std::sort(items.begin(), items.end(), [](const DirItem& a, const DirItem& b) { return a.name < b.name; });
  return items;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

}  // namespace mox::data
