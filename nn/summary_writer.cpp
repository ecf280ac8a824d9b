#include "nn/summary_writer.h"

#include <unistd.h>

#include <array>
#include <bit>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <type_traits>

#include "core/error.h"

namespace mox::nn {
namespace {

std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

// ---- protobuf wire format: varints, tags, fixed-width little-endian fields
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += char((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += char(v);
}
void put_tag(std::string& out, uint32_t field, WireType type) { put_varint(out, (uint64_t(field) << 3) | type); }
// Little-endian whatever the host: doubles and floats go through their bit patterns.
template <class T>
void put_fixed(std::string& out, T value) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, uint32_t>;
  static_assert(sizeof(T) == sizeof(U));
  U bits = std::bit_cast<U>(value);
  for (size_t i = 0; i < sizeof(U); ++i) out += char((bits >> (8 * i)) & 0xff);
}
void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_tag(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  using namespace std::chrono;
  return double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// Event { wall_time = 1 (double); step = 2 (int64) }, the fields every record carries.
std::string event_head(double wall_time, int64_t step) {
  std::string e;
  put_tag(e, 1, kFixed64);
  put_fixed(e, wall_time);
  put_tag(e, 2, kVarint);
  put_varint(e, uint64_t(step));  // negative steps take ten bytes, as protobuf encodes int64
  return e;
}

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc32c_table();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

SummaryWriter::SummaryWriter(const std::string& log_dir) : log_dir_(log_dir) {
  MOX_CHECK_T(IOError, !log_dir.empty(), "SummaryWriter", "log_dir is empty");
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  MOX_CHECK_T(IOError, std::filesystem::is_directory(log_dir), "SummaryWriter", "cannot create log dir '",
              log_dir, "'", ec ? ": " + ec.message() : std::string());
  double wall = now_seconds();
  std::string base = (std::filesystem::path(log_dir) / "events.out.tfevents.").string() +
                     std::to_string(int64_t(wall)) + "." + hostname();
  // Two writers started in the same second must not share a file.
  path_ = base;
  for (int i = 1; std::filesystem::exists(path_); ++i) path_ = base + "." + std::to_string(i);
  out_.open(path_, std::ios::binary | std::ios::trunc);
  MOX_CHECK_T(IOError, out_.good(), "SummaryWriter", "cannot create event file '", path_, "'");
  std::string first = event_head(wall, 0);
  put_bytes(first, 3, "brain.Event:2");
  write_record(first);
  flush();
}

SummaryWriter::~SummaryWriter() {
  if (out_.is_open()) out_.close();  // closing flushes; a destructor must not throw
}

void SummaryWriter::write_record(const std::string& payload) {
  MOX_CHECK_T(IOError, out_.is_open(), "SummaryWriter", "the event file '", path_, "' is closed");
  unsigned char len[8];
  uint64_t n = payload.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
  std::string rec(reinterpret_cast<const char*>(len), 8);
  put_fixed(rec, masked_crc32c(len, 8));
  rec += payload;
  put_fixed(rec, masked_crc32c(payload.data(), payload.size()));
  out_.write(rec.data(), std::streamsize(rec.size()));
  MOX_CHECK_T(IOError, out_.good(), "SummaryWriter", "write to '", path_, "' failed");
}

void SummaryWriter::add_scalar(const std::string& tag, double value, int64_t step, std::optional<double> wall_time) {
  MOX_CHECK(!tag.empty(), "SummaryWriter::add_scalar", "tag is empty");
  std::string v;  // Summary.Value
  put_bytes(v, 1, tag);
  put_tag(v, 2, kFixed32);
  put_fixed(v, float(value));
  std::string summary;
  put_bytes(summary, 1, v);
  std::string e = event_head(wall_time.value_or(now_seconds()), step);
  put_bytes(e, 5, summary);
  write_record(e);
}

void SummaryWriter::flush() {
  if (!out_.is_open()) return;
  out_.flush();
  MOX_CHECK_T(IOError, out_.good(), "SummaryWriter", "flush of '", path_, "' failed");
}

void SummaryWriter::close() {
  if (!out_.is_open()) return;
  flush();
  out_.close();
}

}  // namespace mox::nn
