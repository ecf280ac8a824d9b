// The data layer on S3 (s3rver behind the signature-checking proxy of tests/s3): `mox train`
// reads Fashion-MNIST from s3:// and reaches the same accuracy as from local files; raw image
// folders and record files read from S3 with the cache; invalid URLs.
#include <filesystem>
#include <map>
#include <regex>

#include "io/data/convert.h"
#include "io/data/loader.h"
#include "io/data/mnist.h"
#include "io/file/file.h"
#include "tests/io/fashion_fixture.h"
#include "tests/s3/s3_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {

std::string accuracy_in(const std::string& text) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(text, m, std::regex(R"(test accuracy: ([0-9.]+))")), text);
  return m[1];
}

std::map<std::string, double> pixel_sums_by_file(data::Loader& loader) {
  std::map<std::string, double> out;
  while (auto b = loader.next())
    for (int64_t i = 0; i < b->size(); ++i)
      out[fs::path(b->names[size_t(i)]).filename().string()] = sum(b->images[i].to(DType::f32)).item();
  return out;
}

}  // namespace

TEST_SUITE("s3") {

TEST_CASE("s3 data: mox train with data_url on S3 reaches the same accuracy as local files") {
  S3Fixture& s3 = S3Fixture::get();
  s3.use_proxy();
  std::string url = s3.unique("fashion-mnist");
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                        "t10k-labels-idx1-ubyte.gz"})
    file::copy(std::string(data::kFashionMnistDir) + "/" + f, url + "/" + f);
  std::string env;
  for (const std::string& e : s3.mox_env()) env += e + " ";
  std::string args = " --model=softmax_regression --optimizer=sgd --learning_rate=0.1 --batch_size=100"
                     " --max_number_of_steps=60 --threads=1 --train_url=";
  std::string mox = std::string(MOX_BIN_DIR) + "/mox train";
  Run local = run_command(mox + args + shell_quote(s3.local_dir("train_local")) + " 2>&1");
  Run remote = run_command(env + mox + args + shell_quote(s3.local_dir("train_s3")) + " --data_url=" + url + " 2>&1");
  INFO(remote.output);
  REQUIRE(local.status == 0);
  REQUIRE(remote.status == 0);
  CHECK(accuracy_in(remote.output) == accuracy_in(local.output));

  Run missing = run_command(env + mox + args + shell_quote(s3.local_dir("train_missing")) + " --data_url=" + url +
                            "-nothing 2>&1");
  CHECK(missing.status != 0);
  CHECK(missing.output.find(url + "-nothing/train-images-idx3-ubyte.gz") != std::string::npos);
}

TEST_CASE("s3 data: an image folder and its records read from S3 with a local cache") {
  S3Fixture& s3 = S3Fixture::get();
  s3.use_proxy();
  const FashionImages& f = fashion_images();
  std::string url = s3.unique("fashion-png");
  file::copy_parallel(f.png, url);
  data::ImageClassificationRawMetadata remote(url);
  CHECK(remote.total_num_samples() == FashionImages::kCount);
  CHECK(remote.labels_list() == data::fashion_mnist_classes());  // from labels.txt on S3

  data::Loader local_loader(data::raw_source(data::ImageClassificationRawMetadata(f.png)), {.num_epochs = 1});
  std::map<std::string, double> expected = pixel_sums_by_file(local_loader);
  {
    data::Loader loader(data::raw_source(remote), {.num_epochs = 2, .cache_dir = s3.local_dir("cache")});
    std::map<std::string, double> sums;
    while (auto b = loader.next())
      for (int64_t i = 0; i < b->size(); ++i) sums[fs::path(b->names[size_t(i)]).filename().string()] += sum(b->images[i].to(DType::f32)).item();
    for (auto& [name, v] : expected) CHECK(sums[name] == 2 * v);
    CHECK(loader.stats().from_source == FashionImages::kCount);
    CHECK(loader.stats().from_cache == FashionImages::kCount);
  }
  // Records written to S3 from the S3 folder, read back from S3.
  std::string rec = s3.unique("fashion-rec");
  data::write_records(remote.samples(), remote.labels_list(), rec, {.records_per_file = 64});
  data::Loader from_records(data::record_dir_source(rec), {.num_epochs = 1});
  CHECK(pixel_sums_by_file(from_records) == expected);
}

TEST_CASE("s3 data: invalid and missing URLs are errors naming them") {
  S3Fixture& s3 = S3Fixture::get();
  s3.use_proxy();
  std::string missing = s3.unique("nothing-here");
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(missing); }), {missing.c_str()});
  mentions(thrown<IOError>([&] { data::read_idx(missing + "/x.gz"); }), {"x.gz"});
  CHECK_THROWS_AS(data::ImageClassificationRawMetadata("s3://"), IOError);
}

}  // TEST_SUITE

}  // namespace mox::test
