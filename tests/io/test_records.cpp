// CRC-32C against published vectors, and the record framing: round trips, truncation and
// corruption located by file and byte offset.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "io/data/storage.h"
#include "io/formats/crc32c.h"
#include "io/formats/record.h"
#include "tests/support/check.h"

namespace mox::test {
namespace fs = std::filesystem;
using formats::crc32c;

TEST_CASE("records: crc32c matches the published check values") {
  CHECK(crc32c("123456789", 9) == 0xE3069283u);  // the CRC catalogue's check value
  CHECK(crc32c("", 0) == 0u);
  // RFC 3720 (iSCSI) appendix B.4
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, '\0'), down(32, '\0');
  for (int i = 0; i < 32; ++i) {
    up[size_t(i)] = char(i);
    down[size_t(i)] = char(31 - i);
  }
  CHECK(crc32c(zeros.data(), 32) == 0x8A9136AAu);
  CHECK(crc32c(ones.data(), 32) == 0x62A8AB43u);
  CHECK(crc32c(up.data(), 32) == 0x46DD794Eu);
  CHECK(crc32c(down.data(), 32) == 0x113FDB5Cu);
}

TEST_CASE("records: crc32c extends across pieces and masking round-trips") {
  std::string text = "The quick brown fox jumps over the lazy dog, again and again and again.";
  uint32_t whole = crc32c(text.data(), text.size());
  for (size_t cut : {size_t(0), size_t(1), size_t(7), size_t(8), size_t(33), text.size()})
    CHECK(crc32c(text.data() + cut, text.size() - cut, crc32c(text.data(), cut)) == whole);
  CHECK(formats::mask_crc(whole) != whole);
  CHECK(formats::unmask_crc(formats::mask_crc(whole)) == whole);
}

namespace {

std::string temp_dir(const std::string& name) {
  std::string d = (fs::temp_directory_path() / ("mox_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<std::string> payloads() {
  std::vector<std::string> p = {"", "x", std::string(100000, 'a')};
  for (int i = 0; i < 50; ++i) p.push_back("record " + std::to_string(i) + std::string(size_t(i * 37), char('a' + i % 26)));
  return p;
}

std::vector<std::string> read_all(const std::string& path) {
  std::vector<std::string> out;
  formats::RecordReader r = formats::RecordReader::open(path);
  while (auto p = r.next()) out.emplace_back(*p);
  return out;
}

}  // namespace

TEST_CASE("records: a written file reads back record for record with the TFRecord layout") {
  std::string dir = temp_dir("records");
  std::string path = dir + "/a.rec";
  {
    formats::RecordWriter w(path);
    for (const std::string& p : payloads()) w.write(p);
    CHECK(w.count() == int64_t(payloads().size()));
    w.close();
  }
  CHECK(read_all(path) == payloads());
  // Layout of the first record (empty payload): u64 0, masked crc of those 8 bytes, then the
  // masked crc of nothing.
  std::string bytes = data::read_file(path);
  CHECK(bytes.substr(0, 8) == std::string(8, '\0'));
  uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + 8, 4);
  CHECK(stored == formats::masked_crc32c(bytes.data(), 8));
  std::memcpy(&stored, bytes.data() + 12, 4);
  CHECK(stored == formats::masked_crc32c("", 0));
  size_t total = 0;
  for (const std::string& p : payloads()) total += 16 + p.size();
  CHECK(bytes.size() == total);
  fs::remove_all(dir);
}

TEST_CASE("records: truncation and corruption name the file and the record's byte offset") {
  std::string dir = temp_dir("records_bad");
  std::string path = dir + "/good.rec";
  {
    formats::RecordWriter w(path);
    for (const std::string& p : payloads()) w.write(p);
  }
  std::string bytes = data::read_file(path);
  // Offset of record 3 (payloads 0..2 are 0, 1 and 100000 bytes long).
  uint64_t third = 16 + 0 + 16 + 1 + 16 + 100000;
  std::string at = "at byte offset " + std::to_string(third);

  std::string cut = dir + "/cut.rec";
  data::write_file(cut, bytes.substr(0, third + 20));  // inside record 3's payload
  std::string msg = thrown<formats::RecordError>([&] { read_all(cut); });
  mentions(msg, {"cut.rec", "truncated record", at.c_str()});

  data::write_file(cut, bytes.substr(0, third + 5));  // inside record 3's header
  mentions(thrown<formats::RecordError>([&] { read_all(cut); }), {"cut.rec", "truncated record header", at.c_str()});

  std::string flipped = bytes;
  flipped[third + 14] ^= 0x40;  // a payload byte of record 3
  std::string bad = dir + "/bad.rec";
  data::write_file(bad, flipped);
  mentions(thrown<formats::RecordError>([&] { read_all(bad); }), {"bad.rec", "payload checksum", at.c_str()});

  flipped = bytes;
  flipped[third + 2] ^= 0x01;  // its length
  data::write_file(bad, flipped);
  mentions(thrown<formats::RecordError>([&] { read_all(bad); }), {"bad.rec", "length checksum", at.c_str()});

  formats::RecordReader r = formats::RecordReader::open(bad);  // the records before it still read
  for (int i = 0; i < 3; ++i) CHECK(r.next().has_value());
  CHECK_THROWS_AS(r.next(), formats::RecordError);
  fs::remove_all(dir);
}

}  // namespace mox::test
