// ImageClassificationRaw / MultilabelClassificationRaw metadata on real Fashion-MNIST images,
// labels.txt in the manual's format, and the errors for folders that do not fit.
#include <filesystem>
#include <map>

#include "io/data/image.h"
#include "io/data/loader.h"
#include "io/data/raw_metadata.h"
#include "io/data/storage.h"
#include "tests/io/fashion_fixture.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

TEST_CASE("raw dataset: metadata of a folder per label with and without labels.txt") {
  const FashionImages& f = fashion_images();
  std::string dir = f.copy_of(f.png, "meta");
  fs::remove(dir + "/labels.txt");
  data::ImageClassificationRawMetadata plain(dir);
  CHECK(plain.total_num_samples() == FashionImages::kCount);
  CHECK(plain.num_classes() == 10);
  std::vector<std::string> sorted = data::fashion_mnist_classes();
  std::sort(sorted.begin(), sorted.end());
  CHECK(plain.labels_list() == sorted);  // folder names in sorted order

  // labels.txt fixes the order: the dataset's own class numbering.
  data::write_file(dir + "/labels.txt", "0: T-shirt_top\n1: Trouser\n2: Pullover\n3: Dress\n4: Coat\n"
                                        "5: Sandal\n6: Shirt\n7: Sneaker\n8: Bag\n9: Ankle_boot\n");
  data::ImageClassificationRawMetadata m(dir + "/");
  CHECK(m.labels_list() == data::fashion_mnist_classes());
  std::vector<double> y = f.labels.tolist();
  for (const data::LabeledFile& s : m.samples()) {
    REQUIRE(s.labels.size() == 1);
    CHECK(s.labels[0] == int64_t(y[size_t(FashionImages::index_of(s.url))]));
  }
  // Files that are not images are not samples.
  data::write_file(dir + "/Bag/notes.txt", "not an image");
  CHECK(data::ImageClassificationRawMetadata(dir).total_num_samples() == FashionImages::kCount);
}

TEST_CASE("raw dataset: a labels.txt that disagrees with the folders is an error naming both sides") {
  const FashionImages& f = fashion_images();
  std::string dir = f.copy_of(f.png, "meta_bad");
  std::string labels = dir + "/labels.txt";
  std::string text = data::read_file(labels);
  data::write_file(labels, text + "10: Hat\n");
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(dir); }),
           {"labels.txt disagrees", "11 labels in the file, 10 folders", "'Hat'"});
  data::write_file(labels, text);
  fs::rename(dir + "/Bag", dir + "/Bags");
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(dir); }),
           {"in the file but no folder: 'Bag'", "folders not in the file: 'Bags'"});
  data::write_file(labels, "0: Bags\n0: Coat\n");
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(dir); }), {"labels.txt", "index 0 appears twice"});
  data::write_file(labels, "Bags Coat\n");
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(dir); }), {"labels.txt", "no \"index: name\""});
  mentions(thrown<IOError>([&] { data::ImageClassificationRawMetadata m(dir + "/missing"); }), {"missing", "not a directory"});
}

TEST_CASE("raw dataset: labels.txt entries on one line or one per line") {
  CHECK(data::parse_labels_file("0: cat 1: dog 2: bird", "x") == std::vector<std::string>{"cat", "dog", "bird"});
  CHECK(data::parse_labels_file("1: sea lion\n0: polar bear\n", "x") == std::vector<std::string>{"polar bear", "sea lion"});
  mentions(thrown<IOError>([] { data::parse_labels_file("0: a\n2: b\n", "labels.txt"); }), {"index 2", "out of range"});
}

TEST_CASE("raw dataset: multilabel images with label files") {
  const FashionImages& f = fashion_images();
  std::string dir = f.root + "/multi";
  fs::remove_all(dir);
  // Each image is labelled with its class and with "top" or "shoe" where one applies.
  std::vector<double> y = f.labels.tolist();
  const auto& names = data::fashion_mnist_classes();
  for (int64_t i = 0; i < 30; ++i) {
    int64_t l = int64_t(y[size_t(i)]);
    std::string file = std::to_string(i) + ".png";
    data::write_file(dir + "/images/" + file, data::encode_png(f.images[i].unsqueeze(2)));
    std::string text = names[size_t(l)];
    if (l == 0 || l == 2 || l == 4 || l == 6) text += "\ntop";
    if (l == 5 || l == 7 || l == 9) text += " shoe";
    if (i != 29) data::write_file(dir + "/labels/" + file + ".txt", text + "\n");
  }
  mentions(thrown<IOError>([&] { data::MultilabelClassificationRawMetadata m(dir); }), {"no label file", "29.png.txt"});
  data::MultilabelClassificationRawMetadata m(dir, {.skip_label_not_found = true});
  CHECK(m.total_num_samples() == 29);
  CHECK(m.num_skipped() == 1);
  auto index = m.names_to_labels();
  REQUIRE(index.count("top") == 1);
  for (const data::LabeledFile& s : m.samples()) {
    int64_t l = int64_t(y[size_t(FashionImages::index_of(s.url))]);
    CHECK(s.labels[0] == index.at(names[size_t(l)]));
    CHECK((s.labels.size() == 2) == (l == 0 || l == 2 || l == 4 || l == 6 || l == 5 || l == 7 || l == 9));
  }
  // The loader gives multi-hot label rows.
  data::Loader loader = data::MultilabelClassificationRawDataset(m, {.batch_size = 29, .num_epochs = 1});
  auto b = loader.next();
  REQUIRE(b.has_value());
  CHECK(b->labels.sizes() == Shape{29, m.num_classes()});
  std::map<std::string, int64_t> count;
  for (const data::LabeledFile& s : m.samples()) count[s.url] = int64_t(s.labels.size());
  for (int64_t i = 0; i < 29; ++i) CHECK(sum(b->labels[i]).item() == double(count[b->names[size_t(i)]]));
  CHECK_FALSE(loader.next().has_value());

  // labels.txt must name exactly the labels in use.
  std::string text;
  for (size_t k = 0; k < m.labels_to_names().size(); ++k) text += std::to_string(k) + ": " + m.labels_to_names()[k] + " ";
  data::write_file(dir + "/labels.txt", text + std::to_string(m.num_classes()) + ": unused");
  mentions(thrown<IOError>([&] { data::MultilabelClassificationRawMetadata x(dir, {.skip_label_not_found = true}); }),
           {"labels.txt disagrees", "never used: 'unused'"});
}

}  // namespace mox::test
