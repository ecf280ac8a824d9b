#include "io/s3/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>

namespace mox::s3 {
namespace {

struct Handle {
  Handle() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl = curl_easy_init();
  }
  ~Handle() { curl_easy_cleanup(curl); }
  CURL* curl;
};

struct Exchange {
  const HttpRequest* request;
  HttpResponse response;
  CURL* curl;
  size_t upload_pos = 0;
  std::exception_ptr sink_error;  // a sink that threw: no exception may cross libcurl
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue or a redirect)
    ex->response.headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon), value = line.substr(colon + 1);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    ex->response.headers[name] = value;
  }
  return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  long status = 0;
  curl_easy_getinfo(ex->curl, CURLINFO_RESPONSE_CODE, &status);
  if (ex->request->sink && status >= 200 && status < 300) {
    try {
      ex->request->sink(data, size * n);
    } catch (...) {
      ex->sink_error = std::current_exception();
      return 0;  // aborts the transfer
    }
    ex->response.sunk += size * n;
  } else {
    ex->response.body.append(data, size * n);
  }
  return size * n;
}

size_t on_upload(char* out, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view body = ex->request->body;
  size_t len = std::min(size * n, body.size() - ex->upload_pos);
  std::memcpy(out, body.data() + ex->upload_pos, len);
  ex->upload_pos += len;
  return len;
}

// Rewinds the upload when curl resends the body (after a redirect or a reused dead connection).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* ex = static_cast<Exchange*>(user);
  if (origin != SEEK_SET || offset < 0 || size_t(offset) > ex->request->body.size()) return CURL_SEEKFUNC_FAIL;
  ex->upload_pos = size_t(offset);
  return CURL_SEEKFUNC_OK;
}

bool retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpResponse perform(const HttpRequest& request, const HttpOptions& options) {
  thread_local Handle handle;
  CURL* c = handle.curl;
  curl_easy_reset(c);  // keeps the connection cache
  Exchange ex{&request, {}, c, 0, nullptr};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
  long timeout = std::max(1L, long(options.timeout_seconds));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options.ssl_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options.ssl_verify ? 2L : 0L);
  curl_easy_setopt(c, CURLOPT_FORBID_REUSE, options.reuse ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);

  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, &ex);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &ex);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.size()));
    if (request.method == "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* list = nullptr;
  for (const auto& [name, value] : request.headers) list = curl_slist_append(list, (name + ": " + value).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode code = curl_easy_perform(c);
  curl_slist_free_all(list);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ex.response.status);
  if (ex.sink_error) std::rethrow_exception(ex.sink_error);
  if (code != CURLE_OK) {
    std::string what = error[0] ? error : curl_easy_strerror(code);
    throw TransportError(what, retryable(code), ex.response.status, ex.response.sunk);
  }
  return std::move(ex.response);
}

}  // namespace mox::s3
