// The loader on real Fashion-MNIST PNG and JPEG files: pixels and labels as written, epochs,
// batching, one-hot labels, the local cache, and bad input raised or skipped.
#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "io/data/image.h"
#include "io/data/loader.h"
#include "io/data/storage.h"
#include "tests/io/fashion_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

namespace {

data::Source png_source(const std::string& dir) { return data::raw_source(data::ImageClassificationRawMetadata(dir)); }

// Reads every batch; returns how often each image index was seen, checking pixels and labels.
std::map<int64_t, int> read_and_check(data::Loader& loader, const FashionImages& f, double max_mean_abs_diff,
                                      std::vector<int64_t>* batch_sizes = nullptr) {
  std::map<int64_t, int> seen;
  std::vector<double> y = f.labels.tolist();
  while (auto b = loader.next()) {
    if (batch_sizes) batch_sizes->push_back(b->size());
    REQUIRE(b->images.dim() == 4);
    CHECK(b->images.size(1) == 28);
    CHECK(b->images.size(3) == 1);
    for (int64_t i = 0; i < b->size(); ++i) {
      int64_t idx = FashionImages::index_of(b->names[size_t(i)]);
      ++seen[idx];
      CHECK(int64_t(b->labels[i].item()) == int64_t(y[size_t(idx)]));
      Tensor diff = sub(b->images[i].reshape({28, 28}).to(DType::f32), f.images[idx].to(DType::f32));
      CHECK(mean(abs(diff)).item() <= max_mean_abs_diff);
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("loader: PNG files decode to the exact pixels and labels over several epochs") {
  const FashionImages& f = fashion_images();
  data::Loader loader = data::ImageClassificationRawDataset(data::ImageClassificationRawMetadata(f.png),
                                                            {.batch_size = 64, .num_readers = 4, .num_epochs = 3});
  std::vector<int64_t> sizes;
  auto seen = read_and_check(loader, f, 0.0, &sizes);
  CHECK(seen.size() == size_t(FashionImages::kCount));
  for (auto& [idx, n] : seen) CHECK(n == 3);
  CHECK(sizes == std::vector<int64_t>{64, 64, 64, 64, 64, 64, 64, 64, 64, 24});  // batches span epochs
  data::LoaderStats s = loader.stats();
  CHECK(s.from_source == 3 * FashionImages::kCount);
  CHECK(s.epochs_done == 3);
  CHECK(s.source_bytes > 0);
}

TEST_CASE("loader: JPEG files decode close to the original pixels") {
  const FashionImages& f = fashion_images();
  // stb writes JPEGs in colour (YCbCr) even from one channel: decode to grey.
  data::Loader loader(png_source(f.jpg), {.batch_size = 50, .num_readers = 2, .num_epochs = 1, .channels = 1});
  auto seen = read_and_check(loader, f, 8.0);  // quality 90 JPEG: a few grey levels on average
  CHECK(seen.size() == size_t(FashionImages::kCount));
}

TEST_CASE("loader: order and drop_remainder and one-hot labels and resizing") {
  const FashionImages& f = fashion_images();
  data::ImageClassificationRawMetadata meta(f.png);
  // Without shuffling, one reader returns the files in listing order.
  data::Loader ordered(data::raw_source(meta), {.batch_size = 64, .num_readers = 1, .num_epochs = 1, .shuffle = false,
                                                .drop_remainder = true, .label_one_hot = true,
                                                .image_height = 14, .image_width = 7});
  int64_t at = 0, batches = 0;
  while (auto b = ordered.next()) {
    ++batches;
    CHECK(b->images.sizes() == Shape{64, 14, 7, 1});
    CHECK(b->labels.sizes() == Shape{64, 10});
    CHECK(sum(b->labels).item() == 64);
    for (int64_t i = 0; i < 64; ++i, ++at) {
      CHECK(b->names[size_t(i)] == meta.samples()[size_t(at)].url);
      CHECK(b->labels[i][meta.samples()[size_t(at)].labels[0]].item() == 1.0);
    }
    Tensor x = data::to_nchw_float(b->images);
    CHECK(x.sizes() == Shape{64, 1, 14, 7});
    CHECK(amax(x).item() <= 1.0);
  }
  CHECK(batches == 3);  // 200 = 3 * 64 + 8, the 8 dropped

  Tensor img = f.images[7].unsqueeze(2);
  Tensor half = data::resize_nearest(img, 14, 14);
  CHECK(half[3][5][0].item() == img[6][10][0].item());
}

TEST_CASE("loader: cache_dir fills on the first epoch and later epochs read only the cache") {
  const FashionImages& f = fashion_images();
  std::string src = f.copy_of(f.jpg, "cached_src");
  std::string cache = f.root + "/cache";
  std::string cache_path;
  {
    data::Loader loader(png_source(src), {.batch_size = 32, .num_readers = 3, .num_epochs = 3, .capacity = 512,
                                          .channels = 1, .cache_dir = cache});
    cache_path = loader.cache_path();
    // The whole first epoch fits in the prefetch queue: wait for it, then take the source away.
    for (int i = 0; i < 600 && loader.stats().epochs_done < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    REQUIRE(loader.stats().epochs_done >= 1);
    fs::remove_all(src);
    CHECK(fs::exists(cache_path));
    auto seen = read_and_check(loader, f, 8.0);
    for (auto& [idx, n] : seen) CHECK(n == 3);
    data::LoaderStats s = loader.stats();
    CHECK(s.from_source == FashionImages::kCount);
    CHECK(s.from_cache == 2 * FashionImages::kCount);
  }
  CHECK_FALSE(fs::exists(cache_path));  // remove_cache_on_finish

  data::Loader keep(png_source(f.png), {.num_epochs = 1, .cache_dir = cache, .remove_cache_on_finish = false});
  while (keep.next()) {
  }
  CHECK(!fs::is_empty(keep.cache_path()));
  fs::remove_all(cache);
}

TEST_CASE("loader: a corrupt image is an error naming it or a counted skip") {
  const FashionImages& f = fashion_images();
  std::string dir = f.copy_of(f.png, "corrupt");
  std::string victim = data::ImageClassificationRawMetadata(dir).samples()[57].url;
  std::string png = data::read_file(victim);
  data::write_file(victim, png.substr(0, png.size() / 2));  // truncated file
  std::string victim_name = fs::path(victim).filename().string();
  data::write_file(dir + "/Coat/bogus.jpg", "this is not a JPEG");
  {
    data::Loader raising(png_source(dir), {.batch_size = 16, .num_epochs = 1});
    std::string msg = thrown<IOError>([&] {
      while (raising.next()) {
      }
    });
    CHECK((msg.find(victim_name) != std::string::npos || msg.find("bogus.jpg") != std::string::npos));
    CHECK(msg.find("not a decodable image") != std::string::npos);
  }
  data::Loader skipping(png_source(dir), {.batch_size = 16, .num_epochs = 2, .on_bad_input = data::OnBadInput::kSkip});
  int64_t n = 0;
  while (auto b = skipping.next()) n += b->size();
  CHECK(n == 2 * (FashionImages::kCount - 1));
  data::LoaderStats s = skipping.stats();
  CHECK(s.skipped == 4);
  REQUIRE(!s.skip_reasons.empty());
  mentions(s.skip_reasons[0] + s.skip_reasons[1], {victim_name.c_str(), "bogus.jpg"});
}

TEST_CASE("loader: a source with only bad examples stops with an error instead of spinning") {
  const FashionImages& f = fashion_images();
  std::string dir = f.root + "/all_bad/only";
  data::write_file(dir + "/a.png", "garbage");
  data::Loader loader(png_source(f.root + "/all_bad"), {.num_epochs = -1, .on_bad_input = data::OnBadInput::kSkip});
  mentions(thrown<IOError>([&] { loader.next(); }), {"gave no examples", "1 skipped", "a.png"});
}

}  // namespace mox::test
