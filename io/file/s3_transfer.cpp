// Whole-object transfers between S3 and memory or local files: objects larger than one part
// move as parallel ranges (downloads) or parallel multipart parts (uploads).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/file/backend.h"
#include "io/file/parallel.h"
#include "io/file/s3_backend.h"
#include "io/s3/client.h"

namespace mox::file {
namespace {

// Calls write(offset, data, n) for every byte of the object, ranges fetched in parallel.
void fetch_ranges(s3::Client& c, const S3Url& u, int64_t size,
                  const std::function<void(int64_t, const char*, size_t)>& write) {
  int64_t part = int64_t(c.settings().part_size);
  size_t parts = size_t((size + part - 1) / part);
  parallel_for(parts, c.settings().transfer_threads, [&](size_t i) {
    int64_t begin = int64_t(i) * part, len = std::min(part, size - begin), at = begin;
    int64_t got = c.get_object(u.bucket, u.key, begin, len, [&](const char* p, size_t n) {
      write(at, p, n);
      at += int64_t(n);
    });
    if (got != len)
      throw MoxFileReadException(join("s3://" + u.bucket, u.key),
                                 "read s3://" + u.bucket + "/" + u.key + ": got " + std::to_string(got) +
                                     " bytes of the range at " + std::to_string(begin) + ", expected " +
                                     std::to_string(len) + " (the object changed while being read?)",
                                 200, "");
  });
}

s3::ObjectInfo head_or_throw(s3::Client& c, const S3Url& u, const std::string& url, const char* op) {
  auto info = c.head_object(u.bucket, u.key);
  if (!info) throw MoxFileNotExistsException(url, std::string(op) + ": " + url + " does not exist", 404, "NoSuchKey");
  return *info;
}

// Closes the fd and removes the temporary file unless released.
struct TempFile {
  std::string path;
  int fd = -1;
  bool keep = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(path.c_str());
  }
};

}  // namespace

std::string s3_read_all(const std::string& url) {
  S3Url u = parse_s3_url(url, "read");
  s3::Client c = s3::Client::current();
  s3::ObjectInfo info = head_or_throw(c, u, url, "read");
  std::string out(size_t(info.size), '\0');
  fetch_ranges(c, u, info.size, [&](int64_t at, const char* p, size_t n) { std::memcpy(&out[size_t(at)], p, n); });
  return out;
}

void s3_download(const std::string& url, const std::string& local_path) {
  S3Url u = parse_s3_url(url, "copy");
  s3::Client c = s3::Client::current();
  s3::ObjectInfo info = head_or_throw(c, u, url, "copy");
  TempFile tmp{temp_name_beside(local_path)};
  tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (tmp.fd < 0) throw_errno("copy " + url + " ->", local_path, errno);
  fetch_ranges(c, u, info.size, [&](int64_t at, const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::pwrite(tmp.fd, p, n, off_t(at));
      if (w < 0) throw_errno("copy " + url + " ->", local_path, errno);
      p += w;
      n -= size_t(w);
      at += w;
    }
  });
  if (::close(tmp.fd) != 0) {
    tmp.fd = -1;
    throw_errno("copy " + url + " ->", local_path, errno);
  }
  tmp.fd = -1;
  if (std::rename(tmp.path.c_str(), local_path.c_str()) != 0) throw_errno("copy " + url + " ->", local_path, errno);
  tmp.keep = true;
}

void s3_upload(const std::string& local_path, const std::string& url) {
  S3Url u = parse_s3_url(url, "copy");
  s3::Client c = s3::Client::current();
  int fd = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno("copy", local_path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  off_t size = ::lseek(fd, 0, SEEK_END);
  auto read_at = [&](int64_t at, size_t n) {
    std::string buf(n, '\0');
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd, buf.data() + done, n - done, off_t(at + int64_t(done)));
      if (r < 0) throw_errno("copy", local_path, errno);
      if (r == 0) throw MoxFileException(local_path, "copy: " + local_path + " shrank while being uploaded");
      done += size_t(r);
    }
    return buf;
  };
  const s3::Config& cfg = c.settings();
  if (size_t(size) <= cfg.multipart_threshold) return c.put_object(u.bucket, u.key, read_at(0, size_t(size)));
  // At most 10000 parts (S3's limit): larger files get larger parts.
  int64_t part = std::max<int64_t>(int64_t(cfg.part_size), (int64_t(size) + 9999) / 10000);
  size_t parts = size_t((int64_t(size) + part - 1) / part);
  std::string id = c.create_multipart(u.bucket, u.key);
  std::vector<std::string> etags(parts);
  try {
    parallel_for(parts, cfg.transfer_threads, [&](size_t i) {
      int64_t begin = int64_t(i) * part;
      etags[i] = c.upload_part(u.bucket, u.key, id, int(i) + 1, read_at(begin, size_t(std::min(part, size - begin))));
    });
    c.complete_multipart(u.bucket, u.key, id, etags);
  } catch (...) {
    try {
      c.abort_multipart(u.bucket, u.key, id);
    } catch (const std::exception&) {  // the first failure is the one to report
    }
    throw;
  }
}

}  // namespace mox::file
