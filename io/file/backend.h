// The storage behind mox::file: one Backend for local paths, one for s3:// URLs. The public
// functions (ops.cpp) pick one by the URL and build copy, rename, walk, glob, ... on these
// primitives, so both kinds of path behave alike.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "io/file/file.h"

namespace mox::file {

// How a File was opened, parsed from the mode string.
struct OpenMode {
  char base = 'r';    // 'r', 'w' or 'a'
  bool plus = false;  // read and write
  bool binary = false;
  bool reads() const { return base == 'r' || plus; }
  bool writes() const { return base != 'r' || plus; }
};
OpenMode parse_mode(const std::string& mode);  // throws MoxFileException naming a bad mode

// The open file behind File: byte reads and writes at a position. readline has a default
// built on read.
class File::Impl {
 public:
  virtual ~Impl() = default;
  virtual size_t read(char* out, size_t n) = 0;  // fewer than n only at the end
  virtual void write(const char* data, size_t n) = 0;
  virtual void seek(int64_t pos) = 0;  // absolute; at or past the end is allowed
  virtual int64_t tell() const = 0;
  virtual int64_t size() = 0;
  virtual void flush() = 0;
  virtual void close() = 0;  // idempotent
  virtual std::string readline(int64_t limit);

  std::string url, mode;
  OpenMode how;
  bool is_closed = false;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual bool exists(const std::string& url) = 0;
  virtual bool is_directory(const std::string& url) = 0;
  virtual Stat stat(const std::string& url) = 0;  // MoxFileNotExistsException when missing
  virtual std::vector<DirEntry> scan_dir(const std::string& url) = 0;
  // Every file and directory below url, names relative to it, in any order.
  virtual std::vector<DirEntry> list_recursive(const std::string& url) = 0;
  virtual void make_dirs(const std::string& url) = 0;
  virtual void mk_dir(const std::string& url) = 0;
  virtual bool remove(const std::string& url, bool recursive) = 0;
  virtual std::unique_ptr<File::Impl> open(const std::string& url, const OpenMode& how) = 0;
  // Copies a file within this backend (S3: server-side), via a temporary name locally.
  virtual void copy_within(const std::string& src, const std::string& dst) = 0;
  // Moves a file or tree within this backend.
  virtual void rename_within(const std::string& src, const std::string& dst) = 0;
};

Backend& local_backend();
Backend& s3_backend();
inline Backend& backend_for(const std::string& url) {
  return is_s3_url(url) ? s3_backend() : local_backend();
}

// Throws MoxFileNotExistsException (ENOENT, ENOTDIR) or MoxFileRespException naming op and path.
[[noreturn]] void throw_errno(const std::string& op, const std::string& path, int err);
// A hidden temporary name in path's directory: downloads land there and are renamed on success.
std::string temp_name_beside(const std::string& path);

// url + '/' + name, without doubling a trailing '/'.
std::string join(const std::string& url, const std::string& name);

}  // namespace mox::file
