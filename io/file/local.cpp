// mox::file over the local file system (std::filesystem and stdio), with the manual's
// remove table and errors that name the path.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "io/file/backend.h"

namespace mox::file {
namespace fs = std::filesystem;

[[noreturn]] void throw_errno(const std::string& op, const std::string& path, int err) {
  std::string msg = op + ": " + path + ": " + std::strerror(err);
  if (err == ENOENT || err == ENOTDIR)
    throw MoxFileNotExistsException(path, msg, 0, "ENOENT");
  throw MoxFileRespException(path, msg, 0, std::to_string(err));
}

std::string temp_name_beside(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".mox-part-" +
                             std::to_string(::getpid()) + "-" + std::to_string(counter++)))
      .string();
}

namespace {

// A local file through stdio.
class LocalFile : public File::Impl {
 public:
  LocalFile(const std::string& path, const OpenMode& how) {
    std::string m(1, how.base);
    if (how.plus) m += '+';
    m += 'b';
    f_ = std::fopen(path.c_str(), m.c_str());
    if (!f_) throw_errno("File", path, errno);
  }
  ~LocalFile() override {
    if (f_) std::fclose(f_);
  }
  size_t read(char* out, size_t n) override {
    size_t got = std::fread(out, 1, n, f_);
    if (got < n && std::ferror(f_)) throw_errno("read", url, errno);
    return got;
  }
  void write(const char* data, size_t n) override {
    if (std::fwrite(data, 1, n, f_) != n) throw_errno("write", url, errno);
  }
  void seek(int64_t pos) override {
    if (std::fseek(f_, long(pos), SEEK_SET) != 0) throw_errno("seek", url, errno);
  }
  int64_t tell() const override { return std::ftell(f_); }
  int64_t size() override {
    std::fflush(f_);
    struct stat st;
    if (::fstat(::fileno(f_), &st) != 0) throw_errno("size", url, errno);
    return st.st_size;
  }
  void flush() override {
    if (std::fflush(f_) != 0) throw_errno("flush", url, errno);
  }
  void close() override {
    if (!f_) return;
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) throw_errno("close", url, errno);
  }

 private:
  std::FILE* f_ = nullptr;
};

bool has_trailing_slash(const std::string& p) { return p.size() > 1 && p.back() == '/'; }

class LocalBackend : public Backend {
 public:
  bool exists(const std::string& url) override {
    std::error_code ec;
    return fs::exists(url, ec);
  }
  bool is_directory(const std::string& url) override {
    std::error_code ec;
    return fs::is_directory(url, ec);
  }
  Stat stat(const std::string& url) override {
    struct stat st;
    if (::stat(url.c_str(), &st) != 0) throw_errno("stat", url, errno);
    Stat s;
    s.is_directory = S_ISDIR(st.st_mode);
    s.length = s.is_directory ? 0 : int64_t(st.st_size);
    s.mtime_nsec = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return s;
  }
  std::vector<DirEntry> scan_dir(const std::string& url) override {
    std::error_code ec;
    fs::directory_iterator it(url, ec);
    if (ec) throw_errno("scan_dir", url, ec.value());
    std::vector<DirEntry> out;
    for (const auto& e : it) out.push_back(entry(url, e, e.path().filename().string()));
    return out;
  }
  std::vector<DirEntry> list_recursive(const std::string& url) override {
    std::error_code ec;
    fs::recursive_directory_iterator it(url, ec);
    if (ec) throw_errno("list_directory", url, ec.value());
    std::vector<DirEntry> out;
    for (const auto& e : it) out.push_back(entry(url, e, fs::relative(e.path(), url).string()));
    return out;
  }
  void make_dirs(const std::string& url) override {
    std::error_code ec;
    fs::create_directories(url, ec);
    if (ec) throw_errno("make_dirs", url, ec.value());
  }
  void mk_dir(const std::string& url) override {
    if (::mkdir(url.c_str(), 0777) != 0 && !(errno == EEXIST && is_directory(url)))
      throw_errno("mk_dir", url, errno);
  }
  bool remove(const std::string& url, bool recursive) override {
    struct stat st;
    if (::lstat(strip_slash(url).c_str(), &st) != 0) throw_errno("remove", url, errno);
    if (!S_ISDIR(st.st_mode)) {
      if (has_trailing_slash(url)) return false;  // "file/" names no file: nothing
      if (::unlink(url.c_str()) != 0) throw_errno("remove", url, errno);
      return true;
    }
    if (!recursive) return false;
    std::error_code ec;
    fs::remove_all(url, ec);
    if (ec) throw_errno("remove", url, ec.value());
    return true;
  }
  std::unique_ptr<File::Impl> open(const std::string& url, const OpenMode& how) override {
    return std::make_unique<LocalFile>(url, how);
  }
  void copy_within(const std::string& src, const std::string& dst) override {
    std::string tmp = temp_name_beside(dst);
    std::error_code ec;
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      fs::remove(tmp);
      throw_errno("copy " + src + " ->", dst, ec.value());
    }
    rename_within(tmp, dst);
  }
  void rename_within(const std::string& src, const std::string& dst) override {
    if (std::rename(src.c_str(), dst.c_str()) != 0) throw_errno("rename " + src + " ->", dst, errno);
  }

 private:
  static std::string strip_slash(const std::string& p) {
    std::string s = p;
    while (has_trailing_slash(s)) s.pop_back();
    return s;
  }
  static DirEntry entry(const std::string& url, const fs::directory_entry& e, std::string name) {
    DirEntry d;
    d.name = std::move(name);
    d.path = join(url, d.name);
    std::error_code ec;
    d.is_dir = e.is_directory(ec);
    if (!d.is_dir) d.size = int64_t(e.file_size(ec));
    return d;
  }
};

}  // namespace

Backend& local_backend() {
  static LocalBackend b;
  return b;
}

}  // namespace mox::file
