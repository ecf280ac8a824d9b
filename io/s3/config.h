// The S3 client's settings: credentials, endpoint, addressing, retries, transfer sizes. The
// AWS environment variables fill them on first use; mox::file::set_auth() overrides fields.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

namespace mox::s3 {

struct Config {
  std::string access_key, secret_key, session_token;  // never printed
  std::string region = "us-east-1";
  std::string host;  // endpoint host; empty: s3.<region>.amazonaws.com
  int port = 0;      // 0: 443 or 80
  bool is_secure = true;
  bool ssl_verify = true;
  bool long_conn = true;    // reuse connections
  bool path_style = false;  // true by default when a custom endpoint is set
  double retry_seconds = 30;     // total time a request keeps retrying
  double retry_wait = 0.2;       // first backoff (doubled per attempt, with jitter)
  double timeout_seconds = 60;   // no progress for this long fails an attempt
  int list_max_keys = 1000;
  size_t multipart_threshold = size_t(64) << 20;  // larger uploads go multipart
  size_t part_size = size_t(16) << 20;            // multipart part and ranged-download chunk
  int transfer_threads = 8;                       // parallel parts/ranges per transfer

  std::string endpoint_host() const;  // host[:port] as sent in the Host header
  std::string scheme() const { return is_secure ? "https" : "http"; }
};

// A copy of the current settings (reads the environment on first call).
Config config();
// Applies f to the settings under the lock.
void update_config(const std::function<void(Config&)>& f);
// Back to "not yet read": the next config() reads the environment again.
void reset_config();
// Reads the AWS variables of env-like getter into c (exposed for tests).
void apply_environment(Config& c, const char* (*getenv_fn)(const char*));

}  // namespace mox::s3
