// mox::file's S3 side: s3:// URL parsing and the transfers the public functions use
// directly (whole-object reads, parallel downloads and uploads).
#pragma once
#include <string>

namespace mox::s3 {
class Client;
}

namespace mox::file {

struct S3Url {
  std::string bucket, key;  // key may be empty (the bucket itself) and may end in '/'
};
// Throws MoxFileException naming the URL and what is wrong with it (op names the caller).
S3Url parse_s3_url(const std::string& url, const char* op = "s3");

// The whole object, fetched in parallel ranges when large.
std::string s3_read_all(const std::string& url);
// Downloads to local_path through a temporary file beside it, renamed when complete: a
// failure leaves no partial local_path.
void s3_download(const std::string& url, const std::string& local_path);
// Uploads a local file (multipart with parallel parts above the threshold).
void s3_upload(const std::string& local_path, const std::string& url);

}  // namespace mox::file
