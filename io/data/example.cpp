#include "io/data/example.h"

#include <cstring>

namespace mox::data {
namespace {

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);  // little-endian host (x86, arm64)
}

struct Cursor {
  std::string_view p;
  const std::string& where;
  size_t pos = 0;
  std::string_view take(size_t n) {
    MOX_CHECK_T(IOError, n <= p.size() - pos, "parse_example", where, ": example payload ends early (needs ",
                n, " bytes at ", pos, ", has ", p.size() - pos, ")");
    std::string_view s = p.substr(pos, n);
    pos += n;
    return s;
  }
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
};

}  // namespace

std::string serialize_example(const Example& e) {
  bool decoded = e.image.defined();
  std::string out = "MXE1";
  put<uint8_t>(out, decoded ? 1 : 0);
  put<uint32_t>(out, uint32_t(e.name.size()));
  out += e.name;
  put<uint32_t>(out, uint32_t(e.labels.size()));
  for (int64_t l : e.labels) put<int64_t>(out, l);
  if (!decoded) return out + e.encoded;
  Tensor img = e.image.contiguous();
  MOX_CHECK_T(ShapeError, img.dim() == 3 && img.dtype() == DType::u8, "serialize_example", e.name,
              ": image must be u8 [H, W, C], got ", img.str());
  for (int d = 0; d < 3; ++d) put<uint32_t>(out, uint32_t(img.size(d)));
  out.append(reinterpret_cast<const char*>(img.data_ptr<uint8_t>()), size_t(img.numel()));
  return out;
}

Example parse_example(std::string_view payload, const std::string& where) {
  Cursor c{payload, where};
  MOX_CHECK_T(IOError, c.take(4) == "MXE1", "parse_example", where, ": not an example payload (bad magic)");
  uint8_t kind = c.get<uint8_t>();
  MOX_CHECK_T(IOError, kind <= 1, "parse_example", where, ": unknown example kind ", int(kind));
  Example e;
  e.name = std::string(c.take(c.get<uint32_t>()));
  uint32_t nl = c.get<uint32_t>();
  for (uint32_t i = 0; i < nl; ++i) e.labels.push_back(c.get<int64_t>());
  if (kind == 0) {
    e.encoded = std::string(c.take(payload.size() - c.pos));
    return e;
  }
  int64_t h = c.get<uint32_t>(), w = c.get<uint32_t>(), ch = c.get<uint32_t>();
  std::string_view px = c.take(size_t(h * w * ch));
  MOX_CHECK_T(IOError, c.pos == payload.size(), "parse_example", where, ": ", payload.size() - c.pos,
              " stray bytes after the pixels");
  e.image = empty({h, w, ch}, opts(DType::u8));
  std::memcpy(e.image.data_ptr<uint8_t>(), px.data(), px.size());
  return e;
}

}  // namespace mox::data
