// set_auth: the manual's settings mapped onto the S3 client's configuration.
#include "io/file/file.h"
#include "io/s3/config.h"

namespace mox::file {

void set_auth(const Auth& a) {
  if (a.port && (*a.port < 0 || *a.port > 65535))
    throw MoxFileException("", "set_auth: port must be in 0..65535, got " + std::to_string(*a.port));
  if (a.list_max_keys && (*a.list_max_keys < 1 || *a.list_max_keys > 1000))
    throw MoxFileException("", "set_auth: list_max_keys must be in 1..1000, got " + std::to_string(*a.list_max_keys));
  for (const std::optional<double>* v : {&a.retry, &a.retry_wait, &a.client_timeout})
    if (*v && **v < 0) throw MoxFileException("", "set_auth: retry, retry_wait and client_timeout must not be negative");
  s3::update_config([&](s3::Config& c) {
    if (a.ak) c.access_key = *a.ak;
    if (a.sk) c.secret_key = *a.sk;
    if (a.session_token) c.session_token = *a.session_token;
    if (a.server) {
      c.host = *a.server;
      c.path_style = true;  // a custom endpoint: path-style unless told otherwise below
    }
    if (a.port) c.port = *a.port;
    if (a.is_secure) c.is_secure = *a.is_secure;
    if (a.ssl_verify) c.ssl_verify = *a.ssl_verify;
    if (a.long_conn_mode) c.long_conn = *a.long_conn_mode;
    if (a.path_style) c.path_style = *a.path_style;
    if (a.retry) c.retry_seconds = *a.retry;
    if (a.retry_wait) c.retry_wait = *a.retry_wait;
    if (a.client_timeout) c.timeout_seconds = *a.client_timeout;
    if (a.list_max_keys) c.list_max_keys = *a.list_max_keys;
    if (a.region) c.region = *a.region;
  });
}

void reset_auth() { s3::reset_config(); }

}  // namespace mox::file
