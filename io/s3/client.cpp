// The S3 client: request building and signing, retries, error mapping, and the operations.
#include "io/s3/client.h"

#include <pugixml.hpp>

#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include "io/file/errors.h"

namespace mox::s3 {
namespace {

using file::MoxFileException;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

pugi::xml_document parse_xml(const std::string& body) {
  pugi::xml_document doc;
  doc.load_buffer(body.data(), body.size());
  return doc;
}

// "2009-10-12T17:50:30.000Z" (listings) or "Wed, 21 Oct 2015 07:28:00 GMT" (headers).
int64_t parse_time_nsec(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!end) return 0;
  int64_t ns = int64_t(timegm(&tm)) * 1000000000;
  if (*end == '.') ns += int64_t(std::strtod(end, nullptr) * 1e9);
  return ns;
}

std::string strip_quotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

const char* status_code_name(long status) {
  switch (status) {
    case 400: return "BadRequest";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 416: return "InvalidRange";
    default: return status >= 500 ? "ServerError" : "Error";
  }
}

}  // namespace

Backoff::Backoff(const Config& c) : deadline_(now_seconds() + c.retry_seconds), first_wait_(c.retry_wait) {}

bool Backoff::wait() {
  thread_local std::mt19937 rng{std::random_device{}()};
  double wait = std::min(10.0, first_wait_ * double(1 << std::min(attempt_, 16)));
  wait *= std::uniform_real_distribution<double>(0.5, 1.0)(rng);  // jitter: clients spread out
  if (now_seconds() + wait > deadline_) return false;
  std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  ++attempt_;
  return true;
}

Client::Client(Config config) : config_(std::move(config)) {}

std::string Client::url_of(const std::string& bucket, const std::string& key) const {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

std::string Client::scrub(std::string message) const {
  for (const std::string* secret : {&config_.access_key, &config_.secret_key, &config_.session_token}) {
    if (secret->empty()) continue;
    for (size_t at = message.find(*secret); at != std::string::npos; at = message.find(*secret, at))
      message.replace(at, secret->size(), "***");
  }
  return message;
}

HttpRequest Client::build(const Call& call) const {
  std::string host = config_.endpoint_host();
  std::string path;
  if (config_.path_style || call.bucket.empty()) {
    path = "/" + call.bucket + (call.key.empty() ? "" : "/" + uri_encode(call.key, false));
  } else {
    host = call.bucket + "." + host;
    path = "/" + uri_encode(call.key, false);
  }
  std::string query;
  for (const auto& [name, value] : call.query)
    query += (query.empty() ? "" : "&") + uri_encode(name, true) + (value.empty() && name == "uploads" ? "" : "=" + uri_encode(value, true));

  SignRequest s;
  s.method = call.method;
  s.path = path;
  s.query = query;
  s.payload_hash = sha256_hex(call.body);
  s.amz_date = amz_now();
  s.region = config_.region;
  s.service = "s3";
  s.access_key = config_.access_key;
  s.secret_key = config_.secret_key;
  s.headers = call.headers;
  s.headers.emplace_back("host", host);
  s.headers.emplace_back("x-amz-date", s.amz_date);
  s.headers.emplace_back("x-amz-content-sha256", s.payload_hash);
  if (!config_.session_token.empty()) s.headers.emplace_back("x-amz-security-token", config_.session_token);

  HttpRequest r;
  r.method = call.method;
  r.url = config_.scheme() + "://" + host + path + (query.empty() ? "" : "?" + query);
  r.headers = s.headers;
  r.headers.emplace_back("Authorization", sign(s).authorization);
  r.body = call.body;
  return r;
}

void Client::throw_response(const Call& call, const HttpResponse& r) const {
  std::string url = call.url(*this);
  std::string code = status_code_name(r.status), detail;
  pugi::xml_document doc = parse_xml(r.body);
  if (pugi::xml_node err = doc.child("Error")) {
    if (*err.child_value("Code")) code = err.child_value("Code");
    detail = err.child_value("Message");
  }
  std::string msg = call.op + " " + url + ": HTTP " + std::to_string(r.status) + " " + code;
  if (!detail.empty()) msg += ": " + detail;
  if (code == "SignatureDoesNotMatch")
    msg += " (check the secret key: AWS_SECRET_ACCESS_KEY or set_auth's sk)";
  else if (code == "InvalidAccessKeyId")
    msg += " (check the access key: AWS_ACCESS_KEY_ID or set_auth's ak)";
  msg = scrub(msg);
  if (r.status == 404) throw file::MoxFileNotExistsException(url, msg, int(r.status), code);
  throw file::MoxFileRespException(url, msg, int(r.status), code);
}

HttpResponse Client::send(const Call& call, const std::function<void(const char*, size_t)>& sink) {
  HttpOptions options{config_.timeout_seconds, config_.ssl_verify, config_.long_conn};
  Backoff backoff(config_);
  for (;;) {
    HttpRequest request = build(call);
    request.sink = sink;
    std::string failure;
    std::optional<HttpResponse> failed;
    try {
      HttpResponse r = perform(request, options);
      if (r.status < 300) return r;
      if (r.status < 500 && r.status != 429) {
        // A HEAD answer has no body, so no error code: ask again with a GET (which gives
        // SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied ...) to report the cause.
        if (call.method == "HEAD" && r.status != 404 && r.body.empty()) {
          Call get = call;
          get.method = "GET";
          if (!get.key.empty()) get.headers.emplace_back("Range", "bytes=0-0");
          else get.query = {{"list-type", "2"}, {"max-keys", "1"}};
          send(get);
        }
        throw_response(call, r);
      }
      failed = std::move(r);
    } catch (const TransportError& e) {
      // Bytes already delivered cannot be taken back: the caller resumes (get_object).
      if (e.sunk > 0) throw;
      if (!e.retryable)
        throw MoxFileException(call.url(*this),
                               scrub(call.op + " " + call.url(*this) + ": " + e.what()));
      failure = e.what();
    }
    if (backoff.wait()) continue;
    if (failed) throw_response(call, *failed);
    throw MoxFileException(call.url(*this),
                           scrub(call.op + " " + call.url(*this) + ": " + failure + " (gave up after " +
                                 std::to_string(backoff.attempts()) + " attempts in " +
                                 std::to_string(int(config_.retry_seconds)) + " s)"));
  }
}

bool Client::bucket_exists(const std::string& bucket) {
  try {
    send({"HEAD", bucket, "", {}, {}, {}, "stat"});
    return true;
  } catch (const file::MoxFileNotExistsException&) {
    return false;
  }
}

void Client::create_bucket(const std::string& bucket) {
  std::string body;
  if (config_.region != "us-east-1")
    body = "<CreateBucketConfiguration><LocationConstraint>" + config_.region +
           "</LocationConstraint></CreateBucketConfiguration>";
  send({"PUT", bucket, "", {}, {}, body, "make_dirs"});
}

std::optional<ObjectInfo> Client::head_object(const std::string& bucket, const std::string& key) {
  try {
    HttpResponse r = send({"HEAD", bucket, key, {}, {}, {}, "stat"});
    ObjectInfo info;
    info.key = key;
    info.size = std::stoll(r.header("content-length").empty() ? "0" : r.header("content-length"));
    info.mtime_nsec = parse_time_nsec(r.header("last-modified"));
    info.etag = strip_quotes(r.header("etag"));
    return info;
  } catch (const file::MoxFileNotExistsException&) {
    return std::nullopt;
  }
}

int64_t Client::get_object(const std::string& bucket, const std::string& key, int64_t offset, int64_t length,
                           const std::function<void(const char*, size_t)>& sink) {
  std::string url = url_of(bucket, key);
  Backoff backoff(config_);
  int64_t done = 0;
  bool began = false;
  while (length < 0 || done < length) {
    Call call{"GET", bucket, key, {}, {}, {}, "read"};
    int64_t from = offset + done;
    if (from > 0 || length >= 0)
      call.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-" +
                                             (length >= 0 ? std::to_string(offset + length - 1) : ""));
    try {
      HttpResponse r = send(call, sink);
      done += int64_t(r.sunk);
      break;  // a complete response (libcurl checked its length): the object may end early
    } catch (const TransportError& e) {
      done += int64_t(e.sunk);
      began = true;
      if (!backoff.wait())
        throw file::MoxFileReadException(url, "read " + url + ": the download broke off after " +
                                                  std::to_string(done) + " bytes: " + e.what(),
                                         200, "");
    } catch (const file::MoxFileRespException&) {
      throw;
    } catch (const MoxFileException& e) {
      if (!began) throw;
      throw file::MoxFileReadException(url, std::string(e.what()) + " (while resuming a download broken off after " +
                                                std::to_string(done) + " bytes)",
                                       200, "");
    }
  }
  return done;
}

std::string Client::get_object(const std::string& bucket, const std::string& key, int64_t offset, int64_t length) {
  std::string out;
  if (length > 0) out.reserve(size_t(length));
  get_object(bucket, key, offset, length, [&](const char* p, size_t n) { out.append(p, n); });
  return out;
}

void Client::put_object(const std::string& bucket, const std::string& key, std::string_view data) {
  send({"PUT", bucket, key, {}, {}, data, "write"});
}

std::string Client::create_multipart(const std::string& bucket, const std::string& key) {
  HttpResponse r = send({"POST", bucket, key, {{"uploads", ""}}, {}, {}, "write (multipart start)"});
  std::string id = parse_xml(r.body).child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty())
    throw MoxFileException(url_of(bucket, key), "write " + url_of(bucket, key) + ": no UploadId in the server's answer");
  return id;
}

std::string Client::upload_part(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                int part_number, std::string_view data) {
  HttpResponse r = send({"PUT", bucket, key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                         {}, data, "write (part " + std::to_string(part_number) + ")"});
  return r.header("etag");
}

void Client::complete_multipart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                                const std::vector<std::string>& etags) {
  std::string body = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i)
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
  body += "</CompleteMultipartUpload>";
  Call call{"POST", bucket, key, {{"uploadId", upload_id}}, {}, body, "write (multipart complete)"};
  HttpResponse r = send(call);
  // S3 may answer 200 and put the error in the body.
  if (parse_xml(r.body).child("Error")) throw_response(call, HttpResponse{500, {}, r.body, 0});
}

void Client::abort_multipart(const std::string& bucket, const std::string& key, const std::string& upload_id) {
  send({"DELETE", bucket, key, {{"uploadId", upload_id}}, {}, {}, "write (multipart abort)"});
}

void Client::copy_object(const std::string& src_bucket, const std::string& src_key, const std::string& dst_bucket,
                         const std::string& dst_key) {
  Call call{"PUT", dst_bucket, dst_key, {}, {{"x-amz-copy-source", "/" + src_bucket + "/" + uri_encode(src_key, false)}},
            {}, "copy " + url_of(src_bucket, src_key) + " ->"};
  HttpResponse r = send(call);
  if (parse_xml(r.body).child("Error")) throw_response(call, HttpResponse{500, {}, r.body, 0});
}

void Client::delete_object(const std::string& bucket, const std::string& key) {
  send({"DELETE", bucket, key, {}, {}, {}, "remove"});
}

Listing Client::list(const std::string& bucket, const std::string& prefix, const std::string& delimiter,
                     int max_keys) {
  Listing out;
  std::string token;
  for (;;) {
    int page = config_.list_max_keys;
    if (max_keys > 0) page = std::min(page, max_keys);
    Call call{"GET", bucket, "", {{"list-type", "2"}, {"max-keys", std::to_string(page)}, {"prefix", prefix}},
              {}, {}, "list", prefix};
    if (!delimiter.empty()) call.query.emplace_back("delimiter", delimiter);
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    HttpResponse r = send(call);
    pugi::xml_document doc = parse_xml(r.body);
    pugi::xml_node result = doc.child("ListBucketResult");
    if (!result) throw MoxFileException(url_of(bucket, prefix), "list " + url_of(bucket, prefix) + ": unreadable answer");
    for (pugi::xml_node c : result.children("Contents")) {
      ObjectInfo o;
      o.key = c.child_value("Key");
      o.size = std::stoll(*c.child_value("Size") ? c.child_value("Size") : "0");
      o.mtime_nsec = parse_time_nsec(c.child_value("LastModified"));
      o.etag = strip_quotes(c.child_value("ETag"));
      out.objects.push_back(std::move(o));
    }
    for (pugi::xml_node p : result.children("CommonPrefixes")) out.prefixes.emplace_back(p.child_value("Prefix"));
    token = result.child_value("NextContinuationToken");
    bool enough = max_keys > 0 && int(out.objects.size() + out.prefixes.size()) >= max_keys;
    if (std::string(result.child_value("IsTruncated")) != "true" || token.empty() || enough) break;
  }
  return out;
}

}  // namespace mox::s3
