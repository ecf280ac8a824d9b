// An S3 client: signed requests (SigV4) over libcurl with retries (exponential backoff with
// jitter on 5xx, 429, timeouts and broken connections), path-style or virtual-host addressing,
// ListObjectsV2 with pagination, range GETs that resume where a broken stream stopped,
// multipart upload, server-side copy. Errors are mox::file exceptions naming the s3:// URL;
// no message holds a credential.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/s3/config.h"
#include "io/s3/http.h"

namespace mox::s3 {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t mtime_nsec = 0;
  std::string etag;
};

struct Listing {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> prefixes;  // common prefixes (with the delimiter), when one was given
};

class Client {
 public:
  explicit Client(Config config);
  static Client current() { return Client(config()); }
  const Config& settings() const { return config_; }

  bool bucket_exists(const std::string& bucket);
  void create_bucket(const std::string& bucket);
  std::optional<ObjectInfo> head_object(const std::string& bucket, const std::string& key);

  // Streams bytes [offset, offset + length) of the object (length < 0: to its end) into sink.
  // A stream that breaks is resumed from where it stopped while the retry budget lasts;
  // then MoxFileReadException. Returns the number of bytes delivered.
  int64_t get_object(const std::string& bucket, const std::string& key, int64_t offset, int64_t length,
                     const std::function<void(const char*, size_t)>& sink);
  std::string get_object(const std::string& bucket, const std::string& key, int64_t offset = 0,
                         int64_t length = -1);

  void put_object(const std::string& bucket, const std::string& key, std::string_view data);
  std::string create_multipart(const std::string& bucket, const std::string& key);
  std::string upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id,
                          int part_number, std::string_view data);  // returns the part's ETag
  void complete_multipart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                          const std::vector<std::string>& etags);
  void abort_multipart(const std::string& bucket, const std::string& key, const std::string& upload_id);

  void copy_object(const std::string& src_bucket, const std::string& src_key, const std::string& dst_bucket,
                   const std::string& dst_key);
  void delete_object(const std::string& bucket, const std::string& key);

  // ListObjectsV2 over every page: all keys starting with prefix; with a delimiter, keys past
  // it are rolled up into prefixes. Stops early once max_keys keys and prefixes are found
  // (max_keys > 0).
  Listing list(const std::string& bucket, const std::string& prefix, const std::string& delimiter = "",
               int max_keys = 0);

 private:
  struct Call {
    std::string method, bucket, key;
    std::vector<std::pair<std::string, std::string>> query;  // raw names and values
    Headers headers;
    std::string_view body;
    std::string op;  // names the operation in errors ("get", "list", ...)
    std::string listed = {};  // for a listing: the prefix, so that errors name the listed URL
    std::string url(const Client& c) const { return c.url_of(bucket, key.empty() ? listed : key); }
  };
  HttpRequest build(const Call& call) const;
  // Sends with retries; a non-2xx answer throws (404 -> MoxFileNotExistsException).
  HttpResponse send(const Call& call, const std::function<void(const char*, size_t)>& sink = nullptr);
  [[noreturn]] void throw_response(const Call& call, const HttpResponse& r) const;
  std::string url_of(const std::string& bucket, const std::string& key) const;
  std::string scrub(std::string message) const;  // removes any credential from server text

  Config config_;
};

// A budget of attempts: exponential backoff with jitter until retry_seconds are spent.
class Backoff {
 public:
  explicit Backoff(const Config& c);
  // Sleeps before the next attempt and returns true, or returns false when the budget is spent.
  bool wait();
  int attempts() const { return attempt_ + 1; }

 private:
  double deadline_, first_wait_;
  int attempt_ = 0;
};

}  // namespace mox::s3
