// Test helpers for the summary and Keras suites: a scratch directory that removes itself, and a
// small TensorBoard event-file reader (TFRecord framing with both CRCs checked, then the
// protobuf fields nn::SummaryWriter writes), written independently of the writer.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "nn/summary_writer.h"

namespace mox::test {

class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("mox_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  // Names of the regular files directly inside, sorted.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::directory_iterator(path_))
      if (e.is_regular_file()) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::filesystem::path path_;
};

struct DecodedEvent {
  bool has_wall_time = false;
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;  // (tag, simple_value)
};

namespace detail {
struct Cursor {
  const unsigned char* p;
  size_t n, pos = 0;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= n) throw std::runtime_error("truncated varint");
      unsigned char b = p[pos++];
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint longer than 10 bytes");
  }
  std::string bytes(size_t k) {
    if (pos + k > n) throw std::runtime_error("field runs past the end of its message");
    std::string s(reinterpret_cast<const char*>(p + pos), k);
    pos += k;
    return s;
  }
};
inline uint64_t le(const std::string& s) {
  uint64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) v |= uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}
// Calls fn(field, wire type, varint value, bytes) for each field of a message.
template <class Fn>
void for_fields(const std::string& msg, Fn fn) {
  Cursor c{reinterpret_cast<const unsigned char*>(msg.data()), msg.size()};
  while (c.pos < c.n) {
    uint64_t key = c.varint();
    int field = int(key >> 3), wire = int(key & 7);
    uint64_t v = 0;
    std::string b;
    if (wire == 0) v = c.varint();
    else if (wire == 1) b = c.bytes(8);
    else if (wire == 2) b = c.bytes(size_t(c.varint()));
    else if (wire == 5) b = c.bytes(4);
    else throw std::runtime_error("unsupported wire type " + std::to_string(wire));
    fn(field, wire, v, b);
  }
}
}  // namespace detail

inline DecodedEvent decode_event(const std::string& payload) {
  DecodedEvent e;
  detail::for_fields(payload, [&](int f, int w, uint64_t v, const std::string& b) {
    if (f == 1 && w == 1) {
      uint64_t bits = detail::le(b);
      std::memcpy(&e.wall_time, &bits, 8);
      e.has_wall_time = true;
    } else if (f == 2 && w == 0) {
      e.step = int64_t(v);
    } else if (f == 3 && w == 2) {
      e.file_version = b;
    } else if (f == 5 && w == 2) {
      detail::for_fields(b, [&](int sf, int sw, uint64_t, const std::string& value) {
        if (sf != 1 || sw != 2) return;
        std::pair<std::string, float> tv;
        detail::for_fields(value, [&](int vf, int vw, uint64_t, const std::string& vb) {
          if (vf == 1 && vw == 2) tv.first = vb;
          if (vf == 2 && vw == 5) {
            uint32_t bits = uint32_t(detail::le(vb));
            std::memcpy(&tv.second, &bits, 4);
          }
        });
        e.values.push_back(tv);
      });
    }
  });
  return e;
}

// Throws std::runtime_error naming the byte offset on a bad length, CRC or truncation.
inline std::vector<DecodedEvent> read_event_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<DecodedEvent> events;
  size_t pos = 0;
  while (pos < data.size()) {
    std::string at = " at byte " + std::to_string(pos);
    if (pos + 12 > data.size()) throw std::runtime_error("truncated record header" + at);
    std::string len_bytes = data.substr(pos, 8);
    uint64_t len = detail::le(len_bytes);
    if (uint32_t(detail::le(data.substr(pos + 8, 4))) != nn::masked_crc32c(len_bytes.data(), 8))
      throw std::runtime_error("length CRC mismatch" + at);
    if (len > data.size() - pos - 12 || data.size() - pos - 12 - len < 4)
      throw std::runtime_error("truncated record" + at);
    std::string payload = data.substr(pos + 12, len);
    if (uint32_t(detail::le(data.substr(pos + 12 + len, 4))) != nn::masked_crc32c(payload.data(), payload.size()))
      throw std::runtime_error("payload CRC mismatch" + at);
    events.push_back(decode_event(payload));
    pos += 12 + len + 4;
  }
  return events;
}

// The single event file (events.out.tfevents.*) in dir; throws unless there is exactly one.
inline std::string only_event_file(const std::string& dir) {
  std::vector<std::string> found;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) found.push_back(e.path().string());
  if (found.size() != 1)
    throw std::runtime_error(dir + " holds " + std::to_string(found.size()) + " event files, expected 1");
  return found[0];
}

}  // namespace mox::test
