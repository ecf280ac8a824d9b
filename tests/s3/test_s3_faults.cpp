// Faults between Mox and the server, injected by tests/s3/faultproxy.py: 503s and connection
// resets are retried until they succeed; a server that stops mid-download gives a read error
// and leaves no partial destination file.
#include <nlohmann/json.hpp>
#include <filesystem>

#include "io/file/file.h"
#include "tests/s3/s3_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

TEST_SUITE("s3") {

TEST_CASE("s3 faults: injected 503s are retried and then succeed") {
  S3Fixture& s3 = S3Fixture::get();
  std::string url = s3.unique("503") + "/f.bin";
  std::string data = random_bytes(300000, 3);
  s3.use_fault_proxy();
  s3.fault("503/3");
  file::write(url, data);  // PUT: 3 refusals, then through
  s3.fault("503/3");
  CHECK(file::read(url) == data);  // HEAD and GET
  s3.fault("503/2");
  CHECK(file::list_directory(url.substr(0, url.rfind('/'))) == std::vector<std::string>{"f.bin"});
  nlohmann::json stats = nlohmann::json::parse(s3.fault("stats"));
  CHECK(stats["503"] == 8);
  s3.stop_fault_proxy();
}

TEST_CASE("s3 faults: connection resets are retried and then succeed") {
  S3Fixture& s3 = S3Fixture::get();
  std::string dir = s3.unique("reset");
  std::string data = random_bytes(7 << 20, 4);  // multipart: the resets hit parts too
  s3.use_fault_proxy();
  s3.fault("reset/2");
  file::write(dir + "/f.bin", data);
  s3.fault("reset/3");
  CHECK(file::read(dir + "/f.bin") == data);
  std::string local = s3.local_dir("reset");
  s3.fault("reset/2");
  file::copy(dir + "/f.bin", local + "/f.bin");
  CHECK(file::read(local + "/f.bin") == data);
  CHECK(nlohmann::json::parse(s3.fault("stats"))["reset"] == 7);
  s3.stop_fault_proxy();
}

TEST_CASE("s3 faults: a 503 that never ends fails after the retry budget naming the URL") {
  S3Fixture& s3 = S3Fixture::get();
  std::string url = s3.unique("503-forever") + "/f.bin";
  s3.use_fault_proxy();
  file::set_auth({.retry = 1, .retry_wait = 0.05});
  s3.fault("503/100000");
  try {
    file::write(url, "x");
    FAIL("write succeeded through endless 503s");
  } catch (const file::MoxFileRespException& e) {
    CHECK(e.status() == 503);
    CHECK(e.code() == "SlowDown");
    mentions(e.what(), {url.c_str(), "503"});
  }
  s3.fault("503/0");
  s3.stop_fault_proxy();
}

TEST_CASE("s3 faults: the server stopping mid-download gives a read error and no partial file") {
  S3Fixture& s3 = S3Fixture::get();
  std::string url = s3.unique("cut") + "/f.bin";
  std::string data = random_bytes(3 << 20, 5);
  file::write(url, data);
  std::string local = s3.local_dir("cut");
  s3.use_fault_proxy();
  file::set_auth({.retry = 1.5, .retry_wait = 0.05});
  s3.fault("cut/1000000");  // relays 1 MB of the body, then the proxy (the server) is gone
  try {
    file::copy(url, local + "/f.bin");
    FAIL("the download succeeded although the server stopped");
  } catch (const file::MoxFileReadException& e) {
    mentions(e.what(), {url.c_str(), "broke"});
  }
  CHECK_FALSE(fs::exists(local + "/f.bin"));
  CHECK(fs::is_empty(local));  // no temporary file either

  s3.use_fault_proxy();  // a new server; File reads break the same way
  file::set_auth({.retry = 1.5, .retry_wait = 0.05});
  s3.fault("cut/500000");
  file::File f(url, "rb");
  CHECK_THROWS_AS(f.read(), file::MoxFileReadException);
  s3.stop_fault_proxy();
}

}  // TEST_SUITE

}  // namespace mox::test
