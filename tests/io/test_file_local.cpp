// mox::file on local paths: the shared backend cases (file_cases.h) plus what only a local
// file system shows.
#include <unistd.h>

#include <filesystem>

#include "tests/io/file_cases.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {
std::string fresh_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("mox_file_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST_CASE("file local: File modes reads seeks and appends") { check_file_modes(fresh_dir("modes")); }
TEST_CASE("file local: listing glob walk stat and mk_dir") { check_listing(fresh_dir("list")); }
TEST_CASE("file local: the manual's remove table") { check_remove_table(fresh_dir("remove")); }
TEST_CASE("file local: copy rename copy_parallel and append_remote") {
  check_copies(fresh_dir("copies"), fresh_dir("copies_dst"));
}

TEST_CASE("file local: a failed copy leaves no partial destination and errors name the path") {
  std::string d = fresh_dir("errors");
  mentions(thrown<file::MoxFileNotExistsException>([&] { file::copy(d + "/none", d + "/dst"); }), {(d + "/none").c_str()});
  CHECK_FALSE(fs::exists(d + "/dst"));
  CHECK(fs::is_empty(d));  // no temporary left behind
  mentions(thrown<file::MoxFileException>([&] { file::File(d + "/no_dir/x", "w"); }), {(d + "/no_dir/x").c_str()});
}

TEST_CASE("file local: copy_parallel refuses a name that is a file in one place and a directory in another") {
  std::string d = fresh_dir("dup");
  file::make_dirs(d + "/src");
  file::write(d + "/src/x", "file");
  file::make_dirs(d + "/dst/x/y");  // dst already holds x as a directory
  file::copy_parallel(d + "/src", d + "/dst2");
  CHECK(file::read(d + "/dst2/x") == "file");
  std::string msg = thrown<file::MoxFileNameDuplicateException>([&] { file::copy_parallel(d + "/src", d + "/dst"); });
  mentions(msg, {(d + "/dst/x").c_str()});
}

TEST_CASE("file local: invalid S3 URLs give clear errors before any request") {
  mentions(thrown<file::MoxFileException>([] { file::read("s3://"); }), {"invalid S3 URL", "no bucket"});
  mentions(thrown<file::MoxFileException>([] { file::exists("s3:///key"); }), {"s3:///key", "no bucket"});
  mentions(thrown<file::MoxFileException>([] { file::stat("s3://Bad_Bucket/k"); }), {"Bad_Bucket", "not valid"});
  mentions(thrown<file::MoxFileException>([] { file::File("s3://bucket/dir/", "r"); }), {"names a directory"});
  CHECK(file::is_s3_url("s3://b/k"));
  CHECK_FALSE(file::is_s3_url("/tmp/s3://x"));
}

}  // namespace mox::test
