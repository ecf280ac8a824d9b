// Mox's SigV4 signer against AWS's published vectors (tests/data/sigv4_vectors.json; the S3
// tests' proxy checks botocore against the same file), plus URI encoding and credential
// handling.
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/s3/client.h"
#include "io/s3/sigv4.h"
#include "tests/support/check.h"

namespace mox::test {

TEST_CASE("sigv4: every published AWS vector gives the published signature") {
  std::ifstream in(std::string(MOX_TEST_DATA) + "/sigv4_vectors.json");
  REQUIRE(in.good());
  nlohmann::json data = nlohmann::json::parse(in);
  REQUIRE(data["vectors"].size() >= 10);
  for (const auto& v : data["vectors"]) {
    const auto& keys = data[v["keys"].get<std::string>()];
    s3::SignRequest r;
    r.method = v["method"];
    r.path = v["path"];
    r.query = v["query"];
    for (const auto& h : v["headers"]) r.headers.emplace_back(h[0], h[1]);
    r.payload_hash = s3::sha256_hex(v["body"].get<std::string>());
    r.amz_date = keys["amz_date"];
    r.region = keys["region"];
    r.service = keys["service"];
    r.access_key = keys["access_key"];
    r.secret_key = keys["secret_key"];
    s3::Signature s = s3::sign(r);
    INFO(v["name"].get<std::string>());
    CHECK(s.signature == v["signature"].get<std::string>());
    CHECK(s.signed_headers == v["signed_headers"].get<std::string>());
    if (v.contains("canonical_request")) CHECK(s.canonical_request == v["canonical_request"].get<std::string>());
    if (v.contains("string_to_sign")) CHECK(s.string_to_sign == v["string_to_sign"].get<std::string>());
    CHECK(s.authorization.find("Credential=" + keys["access_key"].get<std::string>() + "/") != std::string::npos);
  }
}

TEST_CASE("sigv4: a changed byte anywhere changes the signature") {
  s3::SignRequest r{"GET", "/b/k", "list-type=2", {{"host", "h"}, {"x-amz-date", "20240101T000000Z"}},
                    s3::sha256_hex(""), "20240101T000000Z", "us-east-1", "s3", "AK", "SK"};
  std::string base = s3::sign(r).signature;
  auto differs = [&](auto edit) {
    s3::SignRequest copy = r;
    edit(copy);
    return s3::sign(copy).signature != base;
  };
  CHECK(differs([](auto& c) { c.method = "PUT"; }));
  CHECK(differs([](auto& c) { c.path = "/b/K"; }));
  CHECK(differs([](auto& c) { c.query = "list-type=1"; }));
  CHECK(differs([](auto& c) { c.headers[0].second = "h2"; }));
  CHECK(differs([](auto& c) { c.payload_hash = s3::sha256_hex("x"); }));
  CHECK(differs([](auto& c) { c.secret_key = "SK2"; }));
  CHECK(differs([](auto& c) { c.region = "eu-west-1"; }));
}

TEST_CASE("sigv4: URI encoding keeps unreserved bytes and encodes the rest as UTF-8 bytes") {
  CHECK(s3::uri_encode("a b+c=d%e/f~g_h-i.j", false) == "a%20b%2Bc%3Dd%25e/f~g_h-i.j");
  CHECK(s3::uri_encode("a/b", true) == "a%2Fb");
  CHECK(s3::uri_encode("\xc3\xa9", false) == "%C3%A9");
  CHECK(s3::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("s3 config: the AWS environment variables set credentials region and endpoint") {
  static std::map<std::string, std::string> env;
  auto getenv_fn = [](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  env = {{"AWS_ACCESS_KEY_ID", "AKX"}, {"AWS_SECRET_ACCESS_KEY", "SKX"}, {"AWS_SESSION_TOKEN", "TOK"},
         {"AWS_DEFAULT_REGION", "eu-west-1"}, {"AWS_REGION", "eu-central-1"},
         {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"}};
  s3::Config c;
  s3::apply_environment(c, getenv_fn);
  CHECK(c.access_key == "AKX");
  CHECK(c.secret_key == "SKX");
  CHECK(c.session_token == "TOK");
  CHECK(c.region == "eu-central-1");
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 9000);
  CHECK_FALSE(c.is_secure);
  CHECK(c.path_style);  // a custom endpoint means path-style
  CHECK(c.endpoint_host() == "127.0.0.1:9000");

  env = {{"AWS_ENDPOINT_URL", "http://a:1"}, {"AWS_ENDPOINT_URL_S3", "https://s3.example.com"}};
  s3::Config d;
  s3::apply_environment(d, getenv_fn);
  CHECK(d.host == "s3.example.com");  // the S3-specific variable wins
  CHECK(d.is_secure);
  CHECK(d.endpoint_host() == "s3.example.com");

  s3::Config defaults;
  CHECK(defaults.is_secure);
  CHECK(defaults.ssl_verify);  // HTTPS with certificate checks unless asked otherwise
  CHECK_FALSE(defaults.path_style);
  CHECK(defaults.endpoint_host() == "s3.us-east-1.amazonaws.com");

  env = {{"AWS_ENDPOINT_URL", "ftp://x"}};
  s3::Config e;
  std::string msg = thrown<IOError>([&] { s3::apply_environment(e, getenv_fn); });
  mentions(msg, {"AWS_ENDPOINT_URL", "ftp://x", "http://"});
}

}  // namespace mox::test
