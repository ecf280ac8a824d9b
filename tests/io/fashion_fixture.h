// Real images for the data-layer tests: the first images of Debian's Fashion-MNIST test split
// written out once per test run as PNG and JPEG folders (base/<class>/<i>.png, labels.txt),
// with the pixels and labels kept to compare against.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <string>

#include "io/data/image_folder.h"
#include "io/data/mnist.h"

namespace mox::test {

struct FashionImages {
  static constexpr int64_t kCount = 200;
  std::string root, png, jpg;
  Tensor images;  // u8 [kCount, 28, 28]
  Tensor labels;  // u8 [kCount]

  FashionImages() {
    root = (std::filesystem::temp_directory_path() / ("mox_fashion_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(root);
    std::string dir = data::kFashionMnistDir;
    images = data::read_idx(dir + "/t10k-images-idx3-ubyte.gz").narrow(0, 0, kCount).contiguous();
    labels = data::read_idx(dir + "/t10k-labels-idx1-ubyte.gz").narrow(0, 0, kCount).contiguous();
    png = root + "/png";
    jpg = root + "/jpg";
    data::write_image_folder(images, labels, data::fashion_mnist_classes(), png, "png");
    data::write_image_folder(images, labels, data::fashion_mnist_classes(), jpg, "jpg");
  }
  ~FashionImages() { std::filesystem::remove_all(root); }

  // The image index from a file name ".../<class>/<i>.png".
  static int64_t index_of(const std::string& name) {
    std::string file = std::filesystem::path(name).stem().string();
    return std::stoll(file);
  }
  // A fresh copy of one folder (for tests that damage or delete it).
  std::string copy_of(const std::string& which, const std::string& name) const {
    std::string dst = root + "/" + name;
    std::filesystem::remove_all(dst);
    std::filesystem::copy(which, dst, std::filesystem::copy_options::recursive);
    return dst;
  }
};

inline const FashionImages& fashion_images() {
  static FashionImages f;
  return f;
}

}  // namespace mox::test
