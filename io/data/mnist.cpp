#include "io/data/mnist.h"

#include <zlib.h>

#include <vector>

#include "core/ops.h"
#include "io/data/storage.h"

namespace mox::data {
namespace {

// The file's bytes, gunzipped when they start with the gzip magic.
std::vector<unsigned char> read_all(const std::string& url) {
  std::string raw = read_file(url);
  if (raw.size() < 2 || uint8_t(raw[0]) != 0x1f || uint8_t(raw[1]) != 0x8b) return {raw.begin(), raw.end()};
  z_stream z{};
  MOX_CHECK_T(IOError, inflateInit2(&z, 16 + MAX_WBITS) == Z_OK, "read_idx", "zlib init failed for ", url);
  z.next_in = reinterpret_cast<Bytef*>(raw.data());
  z.avail_in = uInt(raw.size());
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    bytes.insert(bytes.end(), buf, buf + (sizeof buf - z.avail_out));
  }
  std::string why = z.msg ? z.msg : (rc == Z_STREAM_END ? "" : "truncated stream");
  inflateEnd(&z);
  MOX_CHECK_T(IOError, rc == Z_STREAM_END, "read_idx", "corrupt compressed data in ", url, ": ", why);
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
  std::string images = join(dir, split + "-images-idx3-ubyte.gz");
  std::string labels = join(dir, split + "-labels-idx1-ubyte.gz");
  for (const std::string& f : {images, labels})
    MOX_CHECK_T(IOError, exists(f), "load_mnist", "dataset file not found: ", f,
                " (install Debian's dataset-fashion-mnist or pass the directory holding it)");
  Tensor x = read_idx(images), y = read_idx(labels);
  MOX_CHECK_T(IOError, x.dim() == 3 && y.dim() == 1 && x.size(0) == y.size(0), "load_mnist",
              "images ", x.str(), " and labels ", y.str(), " in ", dir, " do not match");
  return {mul(x.to(DType::f32), 1.0 / 255).reshape({x.size(0), 1, x.size(1), x.size(2)}),
          y.to(DType::i64)};
}

}  // namespace mox::data
