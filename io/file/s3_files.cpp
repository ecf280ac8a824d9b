// File objects on S3. Reading streams ranges into a read-ahead buffer that grows while reads
// are sequential; "w" streams out (one PUT, or a multipart upload once the data passes the
// threshold, parts uploaded in the background); the other writable modes edit a local
// temporary copy that flush() and close() upload.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>

#include "io/file/s3_backend.h"
#include "io/file/s3_files.h"
#include "io/s3/client.h"

namespace mox::file {
namespace {

class S3Reader : public File::Impl {
 public:
  S3Reader(const std::string& url, s3::Client client, int64_t size)
      : client_(std::move(client)), u_(parse_s3_url(url, "File")), size_(size) {}

  size_t read(char* out, size_t n) override {
    size_t done = 0;
    while (done < n && pos_ < size_) {
      if (pos_ >= buf_start_ && pos_ < buf_start_ + int64_t(buf_.size())) {
        size_t off = size_t(pos_ - buf_start_), len = std::min(n - done, buf_.size() - off);
        std::memcpy(out + done, buf_.data() + off, len);
        done += len;
        pos_ += int64_t(len);
      } else if (n - done >= window_) {  // large reads bypass the buffer
        int64_t len = std::min(int64_t(n - done), size_ - pos_);
        int64_t at = pos_;
        client_.get_object(u_.bucket, u_.key, pos_, len, [&](const char* p, size_t k) {
          std::memcpy(out + done + size_t(at - pos_), p, k);
          at += int64_t(k);
        });
        done += size_t(at - pos_);
        if (at == pos_) break;
        pos_ = at;
      } else {
        fill();
      }
    }
    return done;
  }
  std::string readline(int64_t limit) override {
    std::string line;
    while (pos_ < size_ && (limit < 0 || int64_t(line.size()) < limit)) {
      if (!(pos_ >= buf_start_ && pos_ < buf_start_ + int64_t(buf_.size()))) fill();
      size_t off = size_t(pos_ - buf_start_);
      size_t avail = buf_.size() - off;
      if (limit >= 0) avail = std::min(avail, size_t(limit) - line.size());
      const char* start = buf_.data() + off;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', avail));
      size_t take = nl ? size_t(nl - start) + 1 : avail;
      line.append(start, take);
      pos_ += int64_t(take);
      if (nl) break;
    }
    return line;
  }
  void write(const char*, size_t) override {}  // File checks the mode first
  void seek(int64_t pos) override { pos_ = pos; }
  int64_t tell() const override { return pos_; }
  int64_t size() override { return size_; }
  void flush() override {}
  void close() override { buf_.clear(); }

 private:
  // Reads ahead from pos_: the window doubles while reads continue where the last fill ended
  // and falls back after a seek elsewhere.
  void fill() {
    bool sequential = pos_ == buf_start_ + int64_t(buf_.size());
    window_ = sequential ? std::min(window_ * 2, kMaxWindow) : kMinWindow;
    int64_t len = std::min(int64_t(window_), size_ - pos_);
    buf_ = client_.get_object(u_.bucket, u_.key, pos_, len);
    buf_start_ = pos_;
    if (buf_.empty())
      throw MoxFileReadException(url, "read " + url + ": the object ended at " + std::to_string(pos_) +
                                          " bytes, before its size " + std::to_string(size_) +
                                          " (changed while being read?)",
                                 200, "");
  }
  static constexpr size_t kMinWindow = 256 << 10, kMaxWindow = 16 << 20;

  s3::Client client_;
  S3Url u_;
  int64_t size_, pos_ = 0, buf_start_ = 0;
  std::string buf_;
  size_t window_ = kMinWindow / 2;
};

class S3Writer : public File::Impl {
 public:
  S3Writer(const std::string& url, s3::Client client) : client_(std::move(client)), u_(parse_s3_url(url, "File")) {}
  ~S3Writer() override { abort(); }

  size_t read(char*, size_t) override { return 0; }
  void write(const char* data, size_t n) override {
    buf_.append(data, n);
    written_ += int64_t(n);
    const s3::Config& cfg = client_.settings();
    if (upload_id_.empty() && buf_.size() <= cfg.multipart_threshold) return;
    if (upload_id_.empty()) upload_id_ = client_.create_multipart(u_.bucket, u_.key);
    while (buf_.size() >= cfg.part_size) {
      send_part(buf_.substr(0, cfg.part_size));
      buf_.erase(0, cfg.part_size);
    }
  }
  void seek(int64_t pos) override {
    if (pos != written_)
      throw MoxFileException(url, "File.seek: " + url + " was opened with mode '" + mode +
                                      "', which streams to S3; open it with 'w+' to seek while writing");
  }
  int64_t tell() const override { return written_; }
  int64_t size() override { return written_; }
  void flush() override {}  // the object appears at close()
  void close() override {
    try {
      if (upload_id_.empty()) {
        client_.put_object(u_.bucket, u_.key, buf_);
      } else {
        if (!buf_.empty() || pending_.empty()) send_part(std::move(buf_));
        while (!pending_.empty()) finish_oldest();
        client_.complete_multipart(u_.bucket, u_.key, upload_id_, etags_);
        upload_id_.clear();
      }
    } catch (...) {
      abort();
      throw;
    }
    buf_.clear();
  }

 private:
  void send_part(std::string data) {
    if (int(pending_.size()) >= client_.settings().transfer_threads) finish_oldest();
    int number = int(etags_.size() + pending_.size()) + 1;
    pending_.push_back(std::async(std::launch::async, [this, number, data = std::move(data)] {
      return client_.upload_part(u_.bucket, u_.key, upload_id_, number, data);
    }));
  }
  void finish_oldest() {
    std::future<std::string> f = std::move(pending_.front());
    pending_.pop_front();
    etags_.push_back(f.get());
  }
  // Drops an unfinished multipart upload so no parts linger on the server.
  void abort() {
    for (auto& f : pending_) f.wait();
    pending_.clear();
    if (upload_id_.empty()) return;
    try {
      client_.abort_multipart(u_.bucket, u_.key, upload_id_);
    } catch (const std::exception&) {  // best effort: the original error matters
    }
    upload_id_.clear();
  }

  s3::Client client_;
  S3Url u_;
  std::string buf_, upload_id_;
  int64_t written_ = 0;
  std::deque<std::future<std::string>> pending_;
  std::vector<std::string> etags_;
};

// a, r+, w+, a+: a local temporary copy, uploaded by flush() and close() when written to.
class S3Staged : public File::Impl {
 public:
  S3Staged(const std::string& url, const OpenMode& how, bool exists) : url_(url) {
    char tmpl[] = "/tmp/mox-s3-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) throw_errno("File", tmpl, errno);
    ::close(fd);
    tmp_ = tmpl;
    try {
      if (exists && how.base != 'w') s3_download(url, tmp_);
      local_ = local_backend().open(tmp_, how);
      local_->url = url;
    } catch (...) {
      ::unlink(tmp_.c_str());
      throw;
    }
    dirty_ = !exists || how.base == 'w';  // created or truncated: upload even if nothing is written
  }
  ~S3Staged() override { ::unlink(tmp_.c_str()); }

  size_t read(char* out, size_t n) override { return local_->read(out, n); }
  void write(const char* data, size_t n) override {
    local_->write(data, n);
    dirty_ = true;
  }
  void seek(int64_t pos) override { local_->seek(pos); }
  int64_t tell() const override { return local_->tell(); }
  int64_t size() override { return local_->size(); }
  void flush() override {
    local_->flush();
    if (dirty_) s3_upload(tmp_, url_);
    dirty_ = false;
  }
  void close() override {
    flush();
    local_->close();
  }

 private:
  std::string url_, tmp_;
  std::unique_ptr<File::Impl> local_;
  bool dirty_ = false;
};

}  // namespace

std::unique_ptr<File::Impl> open_s3_file(const std::string& url, const OpenMode& how) {
  S3Url u = parse_s3_url(url, "File");
  s3::Client client = s3::Client::current();
  if (how.base == 'w' && !how.plus) return std::make_unique<S3Writer>(url, std::move(client));
  std::optional<s3::ObjectInfo> info;
  if (how.base != 'w') info = client.head_object(u.bucket, u.key);
  if (how.base == 'r' && !info)
    throw MoxFileNotExistsException(url, "File: " + url + " does not exist", 404, "NoSuchKey");
  if (how.base == 'r' && !how.plus) return std::make_unique<S3Reader>(url, std::move(client), info->size);
  return std::make_unique<S3Staged>(url, how, info.has_value());
}

}  // namespace mox::file
