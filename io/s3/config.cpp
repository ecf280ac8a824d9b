#include "io/s3/config.h"

#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "io/file/errors.h"

namespace mox::s3 {
namespace {

std::mutex g_mutex;
std::optional<Config> g_config;

Config& locked_config() {
  if (!g_config) {
    g_config.emplace();
    apply_environment(*g_config, [](const char* name) -> const char* { return std::getenv(name); });
  }
  return *g_config;
}

// "http://host:port/path" -> scheme, host, port. Anything else is a clear error.
void parse_endpoint(Config& c, const std::string& url, const char* var) {
  size_t sep = url.find("://");
  std::string scheme = sep == std::string::npos ? "" : url.substr(0, sep);
  if (scheme != "http" && scheme != "https")
    throw file::MoxFileException(url, std::string(var) + "='" + url +
                                          "' must start with http:// or https://");
  std::string rest = url.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  c.is_secure = scheme == "https";
  c.host = rest;
  c.port = 0;
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    c.host = rest.substr(0, colon);
    try {
      c.port = std::stoi(rest.substr(colon + 1));
    } catch (const std::exception&) {
      throw file::MoxFileException(url, std::string(var) + "='" + url + "' has a bad port");
    }
  }
  if (c.host.empty()) throw file::MoxFileException(url, std::string(var) + "='" + url + "' has no host");
  c.path_style = true;  // custom endpoints (MinIO, s3rver, OBS gateways) expect path-style
}

}  // namespace

std::string Config::endpoint_host() const {
  std::string h = host.empty() ? "s3." + region + ".amazonaws.com" : host;
  if (port != 0 && port != (is_secure ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

void apply_environment(Config& c, const char* (*getenv_fn)(const char*)) {
  auto get = [&](const char* name) -> std::string {
    const char* v = getenv_fn(name);
    return v ? v : "";
  };
  if (!get("AWS_ACCESS_KEY_ID").empty()) c.access_key = get("AWS_ACCESS_KEY_ID");
  if (!get("AWS_SECRET_ACCESS_KEY").empty()) c.secret_key = get("AWS_SECRET_ACCESS_KEY");
  if (!get("AWS_SESSION_TOKEN").empty()) c.session_token = get("AWS_SESSION_TOKEN");
  if (!get("AWS_DEFAULT_REGION").empty()) c.region = get("AWS_DEFAULT_REGION");
  if (!get("AWS_REGION").empty()) c.region = get("AWS_REGION");  // wins, as in the AWS SDKs
  if (!get("AWS_ENDPOINT_URL").empty()) parse_endpoint(c, get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL");
  if (!get("AWS_ENDPOINT_URL_S3").empty())
    parse_endpoint(c, get("AWS_ENDPOINT_URL_S3"), "AWS_ENDPOINT_URL_S3");
}

Config config() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return locked_config();
}

void update_config(const std::function<void(Config&)>& f) {
  std::lock_guard<std::mutex> lock(g_mutex);
  f(locked_config());
}

void reset_config() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_config.reset();
}

}  // namespace mox::s3
