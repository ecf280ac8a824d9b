// One HTTP exchange over libcurl. Each thread keeps its own curl handle, so consecutive
// requests from a thread reuse its open connections (keep-alive) unless reuse is off.
#pragma once
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "io/s3/sigv4.h"

namespace mox::s3 {

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  Headers headers;
  std::string_view body;
  // When set, the body of a 2xx response goes here as it arrives instead of into
  // HttpResponse::body (error bodies are always collected).
  std::function<void(const char*, size_t)> sink;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  size_t sunk = 0;  // bytes handed to the sink
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpOptions {
  double timeout_seconds = 60;  // connect timeout, and the longest time without progress
  bool ssl_verify = true;
  bool reuse = true;
};

// A failed exchange that produced no complete response (refused, reset, timed out, cut short).
// sunk: body bytes already handed to the sink; status: the status line, if one arrived.
struct TransportError : std::runtime_error {
  TransportError(const std::string& what, bool retryable, long status, size_t sunk)
      : std::runtime_error(what), retryable(retryable), status(status), sunk(sunk) {}
  bool retryable;
  long status;
  size_t sunk;
};

HttpResponse perform(const HttpRequest& request, const HttpOptions& options);

}  // namespace mox::s3
