// The public mox::file functions: each picks the backend by URL; copies and renames across
// backends stream through File objects (S3 transfers go through the S3 client's parallel
// upload and download).
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "io/file/backend.h"
#include "io/file/parallel.h"
#include "io/file/s3_backend.h"

namespace mox::file {

std::string join(const std::string& url, const std::string& name) {
  if (url.empty()) return name;
  return url.back() == '/' ? url + name : url + "/" + name;
}

bool is_s3_url(std::string_view url) { return url.substr(0, 5) == "s3://"; }

std::string read(const std::string& url, bool) {
  if (is_s3_url(url)) return s3_read_all(url);
  File f(url, "rb");
  std::string data = f.read();
  f.close();
  return data;
}

void write(const std::string& url, std::string_view data, bool) {
  File f(url, "wb");
  f.write(data);
  f.close();
}

void append(const std::string& url, std::string_view data, bool) {
  File f(url, "ab");
  f.write(data);
  f.close();
}

void append_remote(const std::string& src_url, const std::string& dst_url) {
  File src(src_url, "rb");
  File dst(dst_url, "ab");
  for (std::string chunk = src.read(8 << 20); !chunk.empty(); chunk = src.read(8 << 20)) dst.write(chunk);
  dst.close();
}

bool exists(const std::string& url) { return backend_for(url).exists(url); }
bool is_directory(const std::string& url) { return backend_for(url).is_directory(url); }
Stat stat(const std::string& url) { return backend_for(url).stat(url); }
std::vector<DirEntry> scan_dir(const std::string& url) { return backend_for(url).scan_dir(url); }
void make_dirs(const std::string& url) { backend_for(url).make_dirs(url); }
void mk_dir(const std::string& url) { backend_for(url).mk_dir(url); }
bool remove(const std::string& url, bool recursive) { return backend_for(url).remove(url, recursive); }

int64_t get_size(const std::string& url, bool recursive) {
  Backend& b = backend_for(url);
  Stat s = b.stat(url);
  if (!s.is_directory) return s.length;
  if (!recursive && is_s3_url(url))
    throw MoxFileException(url, "get_size: " + url + " is a directory; pass recursive=true for the total");
  int64_t total = 0;
  for (const DirEntry& e : b.list_recursive(url)) total += e.is_dir ? 0 : e.size;
  return total;
}

std::vector<std::string> list_directory(const std::string& url, bool recursive, bool skip_file,
                                        bool skip_dir) {
  Backend& b = backend_for(url);
  std::vector<DirEntry> entries = recursive ? b.list_recursive(url) : b.scan_dir(url);
  std::vector<std::string> names;
  for (const DirEntry& e : entries)
    if (!(e.is_dir ? skip_dir : skip_file)) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Splits "s3://b/x/y" into the root "s3://b" and parts {"x", "y"}; "/a/b" into "/" and {a, b};
// a relative path into "" and its parts.
std::pair<std::string, std::vector<std::string>> split_parts(const std::string& url) {
  std::string root, rest = url;
  if (is_s3_url(url)) {
    size_t slash = url.find('/', 5);
    root = url.substr(0, slash);
    rest = slash == std::string::npos ? "" : url.substr(slash + 1);
  } else if (!url.empty() && url[0] == '/') {
    root = "/";
    rest = url.substr(1);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    if (end == std::string::npos) end = rest.size();
    if (end > start) parts.push_back(rest.substr(start, end - start));
    start = end + 1;
  }
  return {root, parts};
}

}  // namespace

std::vector<std::string> glob(const std::string& pattern) {
  auto [root, parts] = split_parts(pattern);
  Backend& b = backend_for(pattern);
  // Candidates grow part by part; only parts with wildcards list a directory.
  std::vector<std::string> current{root};
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    bool last = i + 1 == parts.size();
    std::vector<std::string> next;
    for (const std::string& base : current) {
      std::string dir = base.empty() ? "." : base;
      if (!has_wildcard(part)) {
        std::string p = base.empty() ? part : join(base, part);
        if (last ? b.exists(p) : b.is_directory(p)) next.push_back(p);
        continue;
      }
      if (!b.is_directory(dir)) continue;
      for (const DirEntry& e : b.scan_dir(dir)) {
        if ((!last && !e.is_dir) || fnmatch(part.c_str(), e.name.c_str(), FNM_PATHNAME | FNM_PERIOD) != 0)
          continue;
        next.push_back(base.empty() ? e.name : join(base, e.name));
      }
    }
    current = std::move(next);
  }
  if (parts.empty()) current = b.exists(pattern) ? std::vector<std::string>{pattern} : std::vector<std::string>{};
  std::sort(current.begin(), current.end());
  return current;
}

std::vector<WalkEntry> walk(const std::string& url, bool topdown) {
  Backend& b = backend_for(url);
  if (!b.is_directory(url)) return {};
  // One recursive listing, grouped by directory (one request stream on S3, not one per level).
  std::map<std::string, WalkEntry> by_dir;
  by_dir[""].top = url;
  for (const DirEntry& e : b.list_recursive(url)) {
    size_t slash = e.name.rfind('/');
    std::string parent = slash == std::string::npos ? "" : e.name.substr(0, slash);
    std::string leaf = slash == std::string::npos ? e.name : e.name.substr(slash + 1);
    WalkEntry& w = by_dir[parent];
    w.top = parent.empty() ? url : join(url, parent);
    (e.is_dir ? w.dirs : w.files).push_back(leaf);
    if (e.is_dir) by_dir[e.name].top = join(url, e.name);
  }
  // Depth-first order from the top, each directory's names sorted.
  std::vector<WalkEntry> out;
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    std::string rel = stack.back();
    stack.pop_back();
    WalkEntry& w = by_dir[rel];
    std::sort(w.dirs.begin(), w.dirs.end());
    std::sort(w.files.begin(), w.files.end());
    for (auto it = w.dirs.rbegin(); it != w.dirs.rend(); ++it) stack.push_back(rel.empty() ? *it : rel + "/" + *it);
    out.push_back(w);
  }
  if (!topdown) std::reverse(out.begin(), out.end());
  return out;
}

void copy(const std::string& src_url, const std::string& dst_url) {
  Backend& src = backend_for(src_url);
  Backend& dst = backend_for(dst_url);
  if (src.stat(src_url).is_directory)
    throw MoxFileException(src_url, "copy: " + src_url + " is a directory; copy_parallel copies directories");
  if (&src == &dst) return src.copy_within(src_url, dst_url);
  if (is_s3_url(src_url)) return s3_download(src_url, dst_url);
  s3_upload(src_url, dst_url);
}

void rename(const std::string& src_url, const std::string& dst_url) {
  Backend& src = backend_for(src_url);
  if (&src == &backend_for(dst_url)) return src.rename_within(src_url, dst_url);
  if (src.stat(src_url).is_directory) {
    copy_parallel(src_url, dst_url);
  } else {
    copy(src_url, dst_url);
  }
  src.remove(src_url, true);
}

void copy_parallel(const std::string& src_url, const std::string& dst_url,
                   const CopyParallelOptions& options) {
  Backend& src = backend_for(src_url);
  Backend& dst = backend_for(dst_url);
  if (!src.is_directory(src_url))
    throw MoxFileNotExistsException(src_url, "copy_parallel: " + src_url + " is not a directory", 0, "");
  std::vector<std::string> files = options.file_list;
  std::set<std::string> dirs;
  if (files.empty()) {
    for (const DirEntry& e : src.list_recursive(src_url)) {
      if (e.is_dir) dirs.insert(e.name);
      else files.push_back(e.name);
    }
  }
  std::sort(files.begin(), files.end());
  // Object stores allow "x" and "x/y" side by side; a local tree cannot hold both.
  if (!is_s3_url(dst_url)) {
    std::set<std::string> file_set(files.begin(), files.end());
    for (const std::string& f : files) {
      for (size_t slash = f.find('/'); slash != std::string::npos; slash = f.find('/', slash + 1)) {
        if (file_set.count(f.substr(0, slash)))
          throw MoxFileNameDuplicateException(
              join(src_url, f.substr(0, slash)),
              "copy_parallel: " + join(src_url, f.substr(0, slash)) + " is both a file and a directory in " +
                  src_url + "; it cannot be downloaded to " + dst_url);
        dirs.insert(f.substr(0, slash));
      }
    }
    // ... nor replace a directory already there by a file, or a file by a directory.
    auto clash = [&](const std::string& name, bool want_dir) {
      std::string path = join(dst_url, name);
      if (dst.exists(path) && dst.is_directory(path) != want_dir)
        throw MoxFileNameDuplicateException(path, "copy_parallel: " + path + " already exists as a " +
                                                      (want_dir ? "file" : "directory") + "; " + join(src_url, name) +
                                                      " is a " + (want_dir ? "directory" : "file"));
    };
    for (const std::string& d : dirs) clash(d, true);
    for (const std::string& f : files) clash(f, false);
    dst.make_dirs(dst_url);
    for (const std::string& d : dirs) dst.make_dirs(join(dst_url, d));
  }
  parallel_for(files.size(), options.threads,
               [&](size_t i) { copy(join(src_url, files[i]), join(dst_url, files[i])); });
}

}  // namespace mox::file
