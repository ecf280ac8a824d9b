// mox::file on S3 against s3rver, every request re-signed by botocore in the signing proxy:
// the backend cases shared with local paths, large streaming files, listings across pages,
// errors.
#include <filesystem>

#include "io/s3/config.h"
#include "tests/io/file_cases.h"
#include "tests/s3/s3_fixture.h"

namespace mox::test {
namespace fs = std::filesystem;

TEST_SUITE("s3") {

TEST_CASE("s3 proxy: botocore's signer reproduces the published SigV4 vectors") {
  Run r = run_command("/usr/bin/python3 " + shell_quote(std::string(MOX_TEST_DATA) + "/../s3/sigproxy.py") +
                      " --vectors " + shell_quote(std::string(MOX_TEST_DATA) + "/sigv4_vectors.json"));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("11 of 11 vectors match") != std::string::npos);
}

TEST_CASE("s3 file: File modes reads seeks and appends") {
  S3Fixture& s3 = S3Fixture::get();
  check_file_modes(s3.unique("modes"));
}

TEST_CASE("s3 file: listing glob walk stat and mk_dir") {
  S3Fixture& s3 = S3Fixture::get();
  check_listing(s3.unique("list"));
}

TEST_CASE("s3 file: the manual's remove table") {
  S3Fixture& s3 = S3Fixture::get();
  check_remove_table(s3.unique("remove"));
}

TEST_CASE("s3 file: copy rename copy_parallel and append_remote") {
  S3Fixture& s3 = S3Fixture::get();
  check_copies(s3.unique("copies"), s3.local_dir("copies"));
}

TEST_CASE("s3 file: a multipart File write reads back through ranges and seeks") {
  S3Fixture& s3 = S3Fixture::get();
  std::string url = s3.unique("big") + "/data.bin";
  std::string data = random_bytes(13 << 20, 7);  // 3 parts of 5 MiB at most
  {
    file::File f(url, "wb");
    for (size_t at = 0; at < data.size(); at += 1000003) f.write(std::string_view(data).substr(at, 1000003));
    CHECK(f.size() == int64_t(data.size()));
  }
  CHECK(file::get_size(url) == int64_t(data.size()));
  CHECK(file::read(url) == data);  // parallel ranges
  file::File r(url, "rb");
  CHECK(r.read(10) == data.substr(0, 10));
  r.seek(int64_t(data.size()) - 100);
  CHECK(r.read() == data.substr(data.size() - 100));
  r.seek(6 << 20);
  CHECK(r.read(9 << 20) == data.substr(6 << 20));  // past the end: what there is
  r.seek(12345);
  std::string pieces;
  for (int i = 0; i < 50; ++i) pieces += r.read(777);
  CHECK(pieces == data.substr(12345, 777 * 50));
}

TEST_CASE("s3 file: listings follow continuation tokens across pages") {
  S3Fixture& s3 = S3Fixture::get();
  std::string dir = s3.unique("pages");
  std::vector<std::string> expected;
  for (int i = 0; i < 23; ++i) {
    std::string name = "f" + std::to_string(100 + i);
    file::write(dir + "/" + name, name);
    expected.push_back(name);
  }
  file::set_auth({.list_max_keys = 5});
  CHECK(file::list_directory(dir) == expected);
  CHECK(file::list_directory(dir, true).size() == 23);
  CHECK(file::get_size(dir, true) == 23 * 4);
  s3.use_proxy();
}

TEST_CASE("s3 file: missing objects and buckets raise not-exists naming the URL") {
  S3Fixture& s3 = S3Fixture::get();
  std::string missing = s3.unique("none") + "/missing.txt";
  std::string msg = thrown<file::MoxFileNotExistsException>([&] { file::read(missing); });
  mentions(msg, {missing.c_str()});
  try {
    file::stat(missing);
  } catch (const file::MoxFileNotExistsException& e) {
    CHECK(e.url() == missing);
    CHECK(e.status() == 404);
  }
  CHECK_FALSE(file::exists("s3://no-such-bucket-here/x"));
  mentions(thrown<file::MoxFileNotExistsException>([] { file::list_directory("s3://no-such-bucket-here"); }),
           {"s3://no-such-bucket-here"});
  mentions(thrown<file::MoxFileException>([] { file::read("s3://a/b"); }), {"s3://a/b", "invalid S3 URL"});
  std::string dir = s3.unique("dirsize");
  file::write(dir + "/a", "12");
  mentions(thrown<file::MoxFileException>([&] { file::get_size(dir); }), {dir.c_str(), "recursive"});
  CHECK(file::get_size(dir, true) == 2);
}

TEST_CASE("s3 file: make_dirs creates a bucket and copy_parallel refuses a file that is also a directory") {
  S3Fixture& s3 = S3Fixture::get();
  std::string bucket = "s3://made-by-mox-" + std::to_string(::getpid());
  CHECK_FALSE(file::exists(bucket));
  file::make_dirs(bucket + "/a/b");
  CHECK(file::is_directory(bucket));
  CHECK(file::is_directory(bucket + "/a/b"));
  // Object stores allow "x" and "x/y" side by side; a local directory cannot.
  file::write(bucket + "/dup/x", "file");
  file::write(bucket + "/dup/x/y", "below");
  std::string dst = s3.local_dir("dup");
  std::string msg = thrown<file::MoxFileNameDuplicateException>([&] { file::copy_parallel(bucket + "/dup", dst); });
  mentions(msg, {(bucket + "/dup/x").c_str()});
  CHECK(fs::is_empty(dst));  // refused before copying anything
}

TEST_CASE("s3 file: a wrong secret key gives a clear 403 that never shows the key") {
  S3Fixture& s3 = S3Fixture::get();
  std::string url = s3.unique("auth") + "/f.txt";
  file::write(url, "x");
  const std::string wrong = "WRONG-SECRET-KEY-1234";
  file::set_auth({.sk = wrong});
  try {
    file::read(url);
    FAIL("a read with a wrong secret key succeeded");
  } catch (const file::MoxFileRespException& e) {
    CHECK(e.status() == 403);
    CHECK(e.code() == "SignatureDoesNotMatch");
    mentions(e.what(), {url.c_str(), "403", "SignatureDoesNotMatch", "secret key"});
    CHECK(std::string(e.what()).find(wrong) == std::string::npos);
  }
  file::set_auth({.ak = "NOT-A-KEY-ID", .sk = S3Fixture::kKey});
  std::string msg = thrown<file::MoxFileRespException>([&] { file::write(url, "y"); });
  mentions(msg, {"403", "InvalidAccessKeyId", url.c_str()});
  CHECK(msg.find("NOT-A-KEY-ID") == std::string::npos);
  s3.use_proxy();
  CHECK(file::read(url) == "x");
}

TEST_CASE("s3 file: HTTPS certificates are verified unless ssl_verify is off") {
  S3Fixture& s3 = S3Fixture::get();
  int port = s3.start_tls_server();  // a self-signed certificate no CA vouches for
  file::set_auth({.port = port, .is_secure = true});
  std::string url = std::string("s3://") + S3Fixture::kBucket + "/tls.txt";
  std::string msg = thrown<file::MoxFileException>([&] { file::write(url, "secret data"); });
  mentions(msg, {url.c_str(), "certificate"});
  file::set_auth({.ssl_verify = false});
  file::write(url, "over https");
  CHECK(file::read(url) == "over https");
  s3.use_proxy();
}

}  // TEST_SUITE

}  // namespace mox::test
