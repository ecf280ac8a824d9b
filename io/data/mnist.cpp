#include "io/data/mnist.h"

#include <zlib.h>

#include <filesystem>
#include <vector>

#include "core/ops.h"

namespace mox::data {
namespace {

std::vector<unsigned char> read_all(const std::string& path) {
  MOX_CHECK_T(IOError, std::filesystem::exists(path), "read_idx", "file not found: ", path);
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files too
  MOX_CHECK_T(IOError, f != nullptr, "read_idx", "cannot open ", path);
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string why = msg ? msg : "";
  gzclose(f);
  MOX_CHECK_T(IOError, n == 0 && err == Z_OK, "read_idx", "corrupt compressed data in ", path, ": ", why);
  return bytes;
}

uint32_t big_endian(const unsigned char* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

}  // namespace

Tensor read_idx(const std::string& path) {
  std::vector<unsigned char> b = read_all(path);
  MOX_CHECK_T(IOError, b.size() >= 4 && b[0] == 0 && b[1] == 0, "read_idx", path,
              " is not an idx file (bad magic)");
  MOX_CHECK_T(IOError, b[2] == 0x08, "read_idx", path, ": only unsigned-byte idx data (type 0x08) ",
              "is supported, got type 0x", std::hex, int(b[2]));
  int ndim = b[3];
  MOX_CHECK_T(IOError, ndim >= 1 && b.size() >= 4 + 4 * size_t(ndim), "read_idx", path,
              ": header truncated (", ndim, " dims)");
  Shape shape;
  for (int d = 0; d < ndim; ++d) shape.push_back(int64_t(big_endian(&b[4 + 4 * size_t(d)])));
  size_t header = 4 + 4 * size_t(ndim);
  int64_t n = shape_numel(shape);
  MOX_CHECK_T(IOError, int64_t(b.size() - header) == n, "read_idx", path, ": header says ",
              shape_str(shape), " (", n, " bytes) but the file holds ", b.size() - header);
  Tensor t = empty(shape, opts(DType::u8));
  std::copy(b.begin() + long(header), b.end(), t.data_ptr<uint8_t>());
  return t;
}

MnistSplit load_mnist(const std::string& dir, const std::string& split) {
  MOX_CHECK(split == "train" || split == "t10k", "load_mnist", "split must be train or t10k, got ", split);
  std::string images = dir + "/" + split + "-images-idx3-ubyte.gz";
  std::string labels = dir + "/" + split + "-labels-idx1-ubyte.gz";
  for (const std::string& f : {images, labels})
    MOX_CHECK_T(IOError, std::filesystem::exists(f), "load_mnist", "dataset file not found: ", f,
                " (install Debian's dataset-fashion-mnist or pass the directory holding it)");
  Tensor x = read_idx(images), y = read_idx(labels);
  MOX_CHECK_T(IOError, x.dim() == 3 && y.dim() == 1 && x.size(0) == y.size(0), "load_mnist",
              "images ", x.str(), " and labels ", y.str(), " in ", dir, " do not match");
  return {mul(x.to(DType::f32), 1.0 / 255).reshape({x.size(0), 1, x.size(1), x.size(2)}),
          y.to(DType::i64)};
}

}  // namespace mox::data
