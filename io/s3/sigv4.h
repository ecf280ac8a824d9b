// AWS Signature Version 4 (the Authorization header form), with OpenSSL's SHA-256 and
// HMAC-SHA256. Checked against AWS's published vectors (tests/data/sigv4_vectors.json) and,
// in the S3 tests, by a proxy that re-signs every request with botocore.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mox::s3 {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct SignRequest {
  std::string method;        // "GET", "PUT", ...
  std::string path;          // the request path as sent, already URI-encoded ("/bucket/a%20b")
  std::string query;         // the query as sent, already encoded ("list-type=2&prefix=a%2Fb"), or ""
  Headers headers;           // every header to sign (host included); names in any case
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
  std::string amz_date;      // "YYYYMMDDTHHMMSSZ"
  std::string region, service;
  std::string access_key, secret_key;
};

struct Signature {
  std::string canonical_request, string_to_sign, signed_headers, signature;
  std::string authorization;  // the Authorization header's value
};

Signature sign(const SignRequest& r);

// Lowercase hex SHA-256 of data.
std::string sha256_hex(std::string_view data);
// Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' unless encode_slash).
std::string uri_encode(std::string_view s, bool encode_slash);
// The current time as "YYYYMMDDTHHMMSSZ".
std::string amz_now();

}  // namespace mox::s3
