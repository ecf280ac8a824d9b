// `mox file ls|cp|rm|cat|stat|mkdir` on local paths and on s3rver (through the signing
// proxy), configured only by the AWS environment variables.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "io/file/file.h"
#include "tests/s3/s3_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {
Run mox_file(S3Fixture& s3, const std::string& args) {
  std::string cmd = "env";
  for (const std::string& e : s3.mox_env()) cmd += " " + shell_quote(e);
  return run_command(cmd + " " + std::string(MOX_BIN_DIR) + "/mox file " + args);
}
}  // namespace

TEST_SUITE("s3") {

TEST_CASE("mox file: ls cp cat stat mkdir and rm on S3 and local paths") {
  S3Fixture& s3 = S3Fixture::get();
  std::string dir = s3.unique("cli");
  std::string local = s3.local_dir("cli");
  std::ofstream(local + "/a b.txt") << "first file\n";
  fs::create_directories(local + "/tree/sub");
  std::ofstream(local + "/tree/sub/x.txt") << "x";
  std::ofstream(local + "/tree/y.txt") << "yy";

  Run r = mox_file(s3, "mkdir -p " + shell_quote(dir + "/made"));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(mox_file(s3, "cp " + shell_quote(local + "/a b.txt") + " " + shell_quote(dir + "/")).status == 0);
  CHECK(mox_file(s3, "cp -r --threads 3 " + shell_quote(local + "/tree") + " " + shell_quote(dir + "/tree")).status == 0);
  r = mox_file(s3, "ls " + shell_quote(dir));
  CHECK(r.output == "a b.txt\nmade\ntree\n");
  r = mox_file(s3, "ls -r " + shell_quote(dir + "/tree"));
  CHECK(r.output == "sub\nsub/x.txt\ny.txt\n");
  r = mox_file(s3, "ls -l " + shell_quote(dir + "/tree"));
  CHECK(r.output.find("FILE            2") != std::string::npos);
  r = mox_file(s3, "cat " + shell_quote(dir + "/a b.txt") + " " + shell_quote(dir + "/tree/y.txt"));
  CHECK(r.output == "first file\nyy");
  r = mox_file(s3, "stat --json " + shell_quote(dir + "/tree/y.txt"));
  REQUIRE(r.status == 0);
  nlohmann::json st = nlohmann::json::parse(r.output);
  CHECK(st["length"] == 2);
  CHECK(st["is_directory"] == false);
  CHECK(mox_file(s3, "cp -r " + shell_quote(dir + "/tree") + " " + shell_quote(local + "/back")).status == 0);
  CHECK(file::read(local + "/back/sub/x.txt") == "x");

  r = mox_file(s3, "rm " + shell_quote(dir + "/tree"));  // a directory without -r: nothing
  CHECK(r.status == 1);
  mentions(r.output, {"nothing removed", "-r"});
  CHECK(mox_file(s3, "rm -r " + shell_quote(dir + "/tree")).status == 0);
  CHECK(mox_file(s3, "ls " + shell_quote(dir)).output == "a b.txt\nmade\n");
}

TEST_CASE("mox file: errors name the URL and --help works") {
  S3Fixture& s3 = S3Fixture::get();
  Run r = mox_file(s3, "cat s3://");
  CHECK(r.status == 1);
  mentions(r.output, {"mox file cat", "invalid S3 URL", "no bucket"});
  std::string missing = s3.unique("cli-missing") + "/nope.txt";
  r = mox_file(s3, "stat " + shell_quote(missing));
  CHECK(r.status == 1);
  mentions(r.output, {missing.c_str(), "does not exist"});
  r = mox_file(s3, "--help");
  CHECK(r.status == 0);
  mentions(r.output, {"ls", "cp", "rm", "cat", "stat", "mkdir", "AWS_ENDPOINT_URL"});
  CHECK(mox_file(s3, "cp --help").status == 0);
  CHECK(mox_file(s3, "frobnicate x").status != 0);
}

}  // TEST_SUITE

}  // namespace mox::test
