// Record files made by mox_records from real images, read by the loader; a damaged record
// file raised or skipped.
#include <cstdlib>
#include <filesystem>
#include <map>

#include "io/data/convert.h"
#include "io/data/loader.h"
#include "io/data/storage.h"
#include "tests/io/fashion_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {

// Pixel sums by image index, read through the loader.
std::map<int64_t, double> pixel_sums(data::Loader& loader) {
  std::map<int64_t, double> out;
  while (auto b = loader.next())
    for (int64_t i = 0; i < b->size(); ++i)
      out[FashionImages::index_of(b->names[size_t(i)])] = sum(b->images[i].to(DType::f32)).item();
  return out;
}

}  // namespace

TEST_CASE("record dataset: mox_records output reads back as the same images and labels") {
  const FashionImages& f = fashion_images();
  std::string dst = f.root + "/records_tool";
  fs::remove_all(dst);
  std::string cmd = std::string(MOX_BIN_DIR) + "/mox_records --src=" + f.png + " --dst=" + dst +
                    " --records_per_file=64 --name=fashion > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(fs::exists(dst + "/fashion-00000-of-00004.rec"));
  CHECK(fs::exists(dst + "/fashion-00003-of-00004.rec"));
  data::Source records = data::record_dir_source(dst);
  CHECK(records.num_shards == 4);
  CHECK(records.num_classes == 10);

  data::Loader from_records(records, {.batch_size = 32, .num_readers = 2, .num_epochs = 1, .label_one_hot = true});
  data::Loader from_files(data::raw_source(data::ImageClassificationRawMetadata(f.png)), {.num_epochs = 1});
  std::map<int64_t, double> a = pixel_sums(from_records), b = pixel_sums(from_files);
  CHECK(a.size() == size_t(FashionImages::kCount));
  CHECK(a == b);

  std::string bad = std::string(MOX_BIN_DIR) + "/mox_records --src=" + f.root + "/nowhere --dst=" + dst + " 2> /dev/null";
  CHECK(std::system(bad.c_str()) != 0);
  fs::remove_all(dst);
}

TEST_CASE("record dataset: a truncated record file is an error naming file and offset or a counted skip") {
  const FashionImages& f = fashion_images();
  std::string dst = f.root + "/records_cut";
  fs::remove_all(dst);
  data::ImageClassificationRawMetadata meta(f.jpg);
  data::ConvertResult r = data::write_records(meta.samples(), meta.labels_list(), dst, {.records_per_file = 50});
  REQUIRE(r.files.size() == 4);
  std::string victim = r.files[2];
  std::string bytes = data::read_file(victim);
  data::write_file(victim, bytes.substr(0, bytes.size() - 10));  // the last record loses its end
  {
    data::Loader loader(data::record_dir_source(dst), {.num_readers = 1, .num_epochs = 1});
    std::string msg = thrown<IOError>([&] {
      while (loader.next()) {
      }
    });
    mentions(msg, {victim.c_str(), "truncated record", "at byte offset"});
  }
  data::Loader skipping(data::record_dir_source(dst), {.num_epochs = 1, .on_bad_input = data::OnBadInput::kSkip});
  int64_t n = 0;
  while (auto b = skipping.next()) n += b->size();
  CHECK(n == FashionImages::kCount - 1);  // every record before the damaged one still counts
  CHECK(skipping.stats().skipped == 1);
  fs::remove_all(dst);
}

}  // namespace mox::test
