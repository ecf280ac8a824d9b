// Interop with a client Mox did not write: awscli (/usr/bin/aws) talks to s3rver directly.
// What Mox puts, awscli reads back byte for byte; what awscli puts (multipart, awkward keys),
// Mox reads, lists and copies.
#include <filesystem>
#include <fstream>

#include "io/file/file.h"
#include "tests/s3/s3_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void spit(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }
// Keys with spaces, + = % and non-ASCII characters (UTF-8).
const std::vector<std::string> kAwkwardNames = {"with space.bin", "a+b=c%d.bin", "\xc3\xbcn\xc3\xaf/c\xc3\xb8" "d\xc3\xa9.bin",
                                                "q?&#;,.bin"};
}  // namespace

TEST_SUITE("s3") {

TEST_CASE("s3 interop: objects Mox puts are read back by awscli byte for byte") {
  S3Fixture& s3 = S3Fixture::get();
  std::string dir = s3.unique("mox-put");
  std::string local = s3.local_dir("mox-put");
  std::vector<std::pair<std::string, std::string>> objects;
  for (size_t i = 0; i < kAwkwardNames.size(); ++i) objects.emplace_back(kAwkwardNames[i], random_bytes(1000 + i * 4097, unsigned(i)));
  objects.emplace_back("multipart.bin", random_bytes(9 << 20, 99));  // over the 6 MiB threshold
  objects.emplace_back("empty.bin", "");
  for (const auto& [name, data] : objects) file::write(dir + "/" + name, data);
  // one through copy() from a local file (parallel multipart upload)
  spit(local + "/src.bin", random_bytes(7 << 20, 5));
  file::copy(local + "/src.bin", dir + "/uploaded.bin");
  objects.emplace_back("uploaded.bin", slurp(local + "/src.bin"));

  // One awscli download of the whole prefix: every object, listed and read by awscli.
  std::string out;
  REQUIRE_MESSAGE(s3.aws({"s3", "cp", "--recursive", "--quiet", dir, local + "/got"}, &out) == 0, out);
  for (const auto& [name, data] : objects) {
    INFO(name);
    REQUIRE(fs::exists(local + "/got/" + name));
    CHECK(slurp(local + "/got/" + name) == data);
  }
}

TEST_CASE("s3 interop: objects awscli puts are read listed and copied by Mox") {
  S3Fixture& s3 = S3Fixture::get();
  std::string dir = s3.unique("aws-put");
  std::string local = s3.local_dir("aws-put");
  std::map<std::string, std::string> objects;
  for (size_t i = 0; i < kAwkwardNames.size(); ++i) objects[kAwkwardNames[i]] = random_bytes(777 + i * 313, unsigned(40 + i));
  objects["big/multipart.bin"] = random_bytes(12 << 20, 41);  // awscli goes multipart above 8 MiB
  for (const auto& [name, data] : objects) {
    fs::create_directories(fs::path(local + "/up/" + name).parent_path());
    spit(local + "/up/" + name, data);
  }
  std::string out;
  REQUIRE_MESSAGE(s3.aws({"s3", "cp", "--recursive", "--quiet", local + "/up", dir}, &out) == 0, out);
  std::string head;
  REQUIRE(s3.aws({"s3api", "head-object", "--bucket", S3Fixture::kBucket, "--key",
                  dir.substr(std::string("s3://").size() + std::string(S3Fixture::kBucket).size() + 1) +
                      "/big/multipart.bin"},
                 &head) == 0);
  CHECK_MESSAGE(head.find("-") != std::string::npos, "awscli's upload is multipart (ETag with a part count)");

  for (const auto& [name, data] : objects) {
    INFO(name);
    CHECK(file::read(dir + "/" + name) == data);
    CHECK(file::get_size(dir + "/" + name) == int64_t(data.size()));
    file::File f(dir + "/" + name, "rb");
    f.seek(int64_t(data.size()) / 2);
    CHECK(f.read(100) == data.substr(data.size() / 2, 100));
  }
  std::vector<std::string> files = file::list_directory(dir, true, false, true);
  std::vector<std::string> names;
  for (const auto& [name, data] : objects) names.push_back(name);
  CHECK(files == names);
  CHECK(file::glob(dir + "/*.bin").size() == 3);

  // copies: S3 -> local (parallel ranges), S3 -> S3 (server side), the tree to local
  file::copy(dir + "/big/multipart.bin", local + "/down.bin");
  CHECK(slurp(local + "/down.bin") == objects["big/multipart.bin"]);
  std::string copied = s3.unique("aws-copied");
  file::copy_parallel(dir, copied, {.threads = 4});
  file::copy_parallel(dir, local + "/tree", {.threads = 4});
  REQUIRE_MESSAGE(s3.aws({"s3", "cp", "--recursive", "--quiet", copied, local + "/back"}, &out) == 0, out);
  for (const auto& [name, data] : objects) {
    INFO(name);
    CHECK(slurp(local + "/tree/" + name) == data);
    CHECK(slurp(local + "/back/" + name) == data);
  }
}

}  // TEST_SUITE

}  // namespace mox::test
