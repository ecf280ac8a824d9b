#include "io/formats/record.h"

#include <cstring>

#include "io/data/storage.h"
#include "io/formats/crc32c.h"

namespace mox::formats {
namespace {

constexpr size_t kHeader = 12;  // u64 length + u32 crc
constexpr size_t kFooter = 4;

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = char((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | uint32_t(uint8_t(p[i]));
  return v;
}

}  // namespace

RecordError::RecordError(const std::string& f, uint64_t off, const std::string& why)
    : IOError("record file " + f + ": " + why + " at byte offset " + std::to_string(off)),
      file(f),
      offset(off) {}

void append_record(std::string& out, std::string_view payload) {
  char len[8];
  uint64_t n = payload.size();
  for (int i = 0; i < 8; ++i) len[i] = char((n >> (8 * i)) & 0xff);
  out.append(len, 8);
  put_u32(out, masked_crc32c(len, 8));
  out.append(payload);
  put_u32(out, masked_crc32c(payload.data(), payload.size()));
}

RecordWriter::RecordWriter(std::string url) : url_(std::move(url)) {}

RecordWriter::~RecordWriter() {
  try {
    close();
  } catch (const std::exception&) {  // a destructor must not throw; close() reports it
  }
}

void RecordWriter::write(std::string_view payload) {
  MOX_CHECK_T(IOError, !closed_, "RecordWriter", "write after close of ", url_);
  append_record(buf_, payload);
  ++count_;
}

void RecordWriter::close() {
  if (closed_) return;
  closed_ = true;
  data::write_file(url_, buf_);
  buf_ = std::string();
}

RecordReader::RecordReader(std::string bytes, std::string name)
    : bytes_(std::move(bytes)), name_(std::move(name)) {}

RecordReader RecordReader::open(const std::string& url) { return RecordReader(data::read_file(url), url); }

std::optional<std::string_view> RecordReader::next() {
  uint64_t left = bytes_.size() - pos_;
  if (left == 0) return std::nullopt;
  const char* p = bytes_.data() + pos_;
  if (left < kHeader)
    throw RecordError(name_, pos_, "truncated record header (" + std::to_string(left) + " of 12 bytes)");
  if (masked_crc32c(p, 8) != get_u32(p + 8))
    throw RecordError(name_, pos_, "corrupt record (length checksum mismatch)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | uint64_t(uint8_t(p[i]));
  if (n > left - kHeader || left - kHeader - n < kFooter)
    throw RecordError(name_, pos_, "truncated record (payload of " + std::to_string(n) + " bytes, " +
                                       std::to_string(left - kHeader) + " bytes left in the file)");
  std::string_view payload(p + kHeader, n);
  if (masked_crc32c(payload.data(), n) != get_u32(p + kHeader + n))
    throw RecordError(name_, pos_, "corrupt record (payload checksum mismatch)");
  pos_ += kHeader + n + kFooter;
  return payload;
}

}  // namespace mox::formats
