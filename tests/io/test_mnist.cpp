// The idx reader on real files (Debian's Fashion-MNIST) and on broken ones.
#include <filesystem>
#include <fstream>

#include "io/data/mnist.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;

TEST_CASE("mnist: Fashion-MNIST from Debian's package loads with the right shapes and labels") {
  data::MnistSplit t = data::load_mnist(data::kFashionMnistDir, "t10k");
  CHECK(t.images.sizes() == Shape{10000, 1, 28, 28});
  CHECK(t.labels.sizes() == Shape{10000});
  CHECK(amax(t.images).item() <= 1.0);
  CHECK(amin(t.images).item() >= 0.0);
  CHECK(amax(t.labels).item() == 9);
  CHECK(amin(t.labels).item() == 0);
}

TEST_CASE("mnist: missing, corrupt and truncated files name the file") {
  std::string dir = (fs::temp_directory_path() / "mox_mnist_bad").string();
  fs::create_directories(dir);
  CHECK_THROWS_WITH_AS(data::load_mnist(dir, "train"), doctest::Contains((dir + "/train-images-idx3-ubyte.gz").c_str()), IOError);

  std::string bad_magic = dir + "/magic.idx";
  std::ofstream(bad_magic, std::ios::binary) << std::string("\x12\x34\x08\x01\x00\x00\x00\x02\x01\x02", 10);
  CHECK_THROWS_WITH_AS(data::read_idx(bad_magic), doctest::Contains("magic.idx is not an idx file"), IOError);

  std::string truncated = dir + "/short.idx";
  std::ofstream(truncated, std::ios::binary) << std::string("\x00\x00\x08\x01\x00\x00\x00\x09\x01\x02", 10);
  CHECK_THROWS_WITH_AS(data::read_idx(truncated), doctest::Contains("header says [9]"), IOError);

  std::string gz = dir + "/broken.gz";
  std::ofstream(gz, std::ios::binary) << std::string("\x1f\x8b\x08\x00garbage-garbage", 19);
  CHECK_THROWS_AS(data::read_idx(gz), IOError);

  std::string good = dir + "/good.idx";
  std::ofstream(good, std::ios::binary) << std::string("\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03\x01\x02\x03\x04\x05\x06", 18);
  Tensor g = data::read_idx(good);
  CHECK(g.sizes() == Shape{2, 3});
  CHECK(g.tolist() == std::vector<double>{1, 2, 3, 4, 5, 6});
  fs::remove_all(dir);
}

}  // namespace mox::test
