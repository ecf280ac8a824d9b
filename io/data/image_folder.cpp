#include "io/data/image_folder.h"

#include "io/data/image.h"
#include "io/data/storage.h"

namespace mox::data {

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt_top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle_boot"};
  return names;
}

int64_t write_image_folder(const Tensor& images, const Tensor& labels, const std::vector<std::string>& label_names,
                           const std::string& dir, const std::string& format, int64_t count) {
  const char* op = "write_image_folder";
  MOX_CHECK_T(ShapeError, images.dtype() == DType::u8 && (images.dim() == 3 || images.dim() == 4), op,
              "needs u8 [N, H, W] or [N, H, W, C] images, got ", images.str());
  MOX_CHECK_T(ShapeError, labels.dim() == 1 && labels.size(0) == images.size(0), op, "labels ", labels.str(),
              " do not match images ", images.str());
  MOX_CHECK(format == "png" || format == "jpg", op, "format must be png or jpg, got ", format);
  Tensor imgs = images.dim() == 3 ? images.unsqueeze(3) : images;
  int64_t n = count < 0 ? imgs.size(0) : std::min(count, imgs.size(0));
  std::vector<double> y = labels.narrow(0, 0, n).tolist();
  std::string index;
  for (size_t l = 0; l < label_names.size(); ++l) index += std::to_string(l) + ": " + label_names[l] + "\n";
  write_file(join(dir, "labels.txt"), index);
  int64_t bytes = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = int64_t(y[size_t(i)]);
    MOX_CHECK_T(IndexError, l >= 0 && l < int64_t(label_names.size()), op, "label ", l, " of image ", i,
                " has no name (", label_names.size(), " names)");
    std::string file = format == "png" ? encode_png(imgs[i]) : encode_jpeg(imgs[i], 90);
    write_file(join(join(dir, label_names[size_t(l)]), std::to_string(i) + "." + format), file);
    bytes += int64_t(file.size());
  }
  return bytes;
}

}  // namespace mox::data
