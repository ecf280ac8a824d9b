// nn::SummaryWriter: CRC32C against published check values, the event-file name and framing,
// every protobuf field read back by the test's own reader, and the same file decoded by an
// independent standard-library Python reader (tests/ref/read_events.py).
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "core/error.h"
#include "nn/summary_writer.h"
#include "tests/nn/event_reader.h"

namespace mox::test {
namespace {

uint32_t crc_of(const std::vector<unsigned char>& v) { return nn::crc32c(v.data(), v.size()); }

double unix_now() {
  using namespace std::chrono;
  return double(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()) / 1e3;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("summary: crc32c matches the standard check value and RFC 3720's patterns") {
  const char* check = "123456789";
  CHECK(nn::crc32c(check, 9) == 0xE3069283u);
  CHECK(crc_of(std::vector<unsigned char>(32, 0x00)) == 0x8A9136AAu);
  CHECK(crc_of(std::vector<unsigned char>(32, 0xFF)) == 0x62A8AB43u);
  std::vector<unsigned char> up(32), down(32);
  for (int i = 0; i < 32; ++i) up[i] = static_cast<unsigned char>(i), down[i] = static_cast<unsigned char>(31 - i);
  CHECK(crc_of(up) == 0x46DD794Eu);
  CHECK(crc_of(down) == 0x113FDB5Cu);
  CHECK(nn::crc32c("", 0) == 0u);
  // A running CRC continues across pieces.
  CHECK(nn::crc32c(check + 4, 5, nn::crc32c(check, 4)) == 0xE3069283u);
}

TEST_CASE("summary: the CRC mask is TFRecord's rotate-and-add") {
  CHECK(nn::mask_crc(0) == 0xa282ead8u);
  uint32_t c = 0xE3069283u;
  CHECK(nn::mask_crc(c) == uint32_t(((c >> 15) | (c << 17)) + 0xa282ead8u));
  CHECK(nn::masked_crc32c("123456789", 9) == nn::mask_crc(0xE3069283u));
}

TEST_CASE("summary: the event file is named events.out.tfevents.<unix time>.<hostname> in a new log dir") {
  TempDir tmp("summary_name");
  std::string log_dir = tmp / "runs/a/b";  // parents are created
  double before = std::floor(unix_now());
  std::string path;
  {
    nn::SummaryWriter w(log_dir);
    path = w.path();
    CHECK(w.log_dir() == log_dir);
  }
  double after = unix_now();
  CHECK(std::filesystem::path(path).parent_path() == std::filesystem::path(log_dir));
  char host[256] = {};
  REQUIRE(gethostname(host, sizeof(host) - 1) == 0);
  std::smatch m;
  std::string name = std::filesystem::path(path).filename().string();
  REQUIRE_MESSAGE(std::regex_match(name, m, std::regex(R"(events\.out\.tfevents\.(\d+)\.(.+))")), name);
  double t = std::stod(m[1].str());
  CHECK(t >= before);
  CHECK(t <= after);
  CHECK(m[2].str() == host);
  CHECK(only_event_file(log_dir) == path);
}

TEST_CASE("summary: two writers in the same log dir and second write two files") {
  TempDir tmp("summary_two");
  nn::SummaryWriter a(tmp.str()), b(tmp.str());
  CHECK(a.path() != b.path());
  CHECK(tmp.files().size() == 2);
}

TEST_CASE("summary: the first record holds file_version brain.Event:2, then one Event per scalar") {
  TempDir tmp("summary_fields");
  double t0 = unix_now();
  std::string path;
  {
    nn::SummaryWriter w(tmp.str());
    path = w.path();
    w.add_scalar("loss", 0.25, 0);
    w.add_scalar("loss", 0.125, 1);
    w.add_scalar("val/accuracy", 0.9, 1, 1234567890.5);
    w.add_scalar("big_step", -3.5, int64_t(1) << 40);
    w.add_scalar("negative_step", 1e30, -7);
  }
  double t1 = unix_now();
  auto events = read_event_file(path);
  REQUIRE(events.size() == 6);
  CHECK(events[0].file_version == "brain.Event:2");
  CHECK(events[0].step == 0);
  CHECK(events[0].values.empty());
  CHECK(events[0].has_wall_time);
  CHECK(events[0].wall_time >= t0 - 1);
  CHECK(events[0].wall_time <= t1 + 1);
  // Wall times carry sub-second precision (TensorBoard orders and plots by them).
  CHECK(events[1].wall_time != std::floor(events[1].wall_time));

  struct Expect {
    std::string tag;
    float value;
    int64_t step;
  };
  std::vector<Expect> want = {{"loss", 0.25f, 0}, {"loss", 0.125f, 1}, {"val/accuracy", 0.9f, 1},
                              {"big_step", -3.5f, int64_t(1) << 40}, {"negative_step", 1e30f, -7}};
  for (size_t i = 0; i < want.size(); ++i) {
    const DecodedEvent& e = events[i + 1];
    CAPTURE(i);
    CHECK(e.file_version.empty());
    CHECK(e.step == want[i].step);
    REQUIRE(e.values.size() == 1);
    CHECK(e.values[0].first == want[i].tag);
    CHECK(e.values[0].second == want[i].value);  // stored as float, bit for bit
    CHECK(e.has_wall_time);
  }
  CHECK(events[3].wall_time == 1234567890.5);
  for (size_t i = 1; i < events.size(); ++i)
    if (i != 3) CHECK(events[i].wall_time >= events[0].wall_time);
}

TEST_CASE("summary: a scalar record has exactly the bytes event.proto and summary.proto give it") {
  TempDir tmp("summary_bytes");
  std::string path;
  {
    nn::SummaryWriter w(tmp.str());
    path = w.path();
    w.add_scalar("loss", 0.25, 3, 1.5);
  }
  std::string bytes = read_bytes(path);
  // Skip the file_version record: 8 + 4 + length + 4 bytes.
  size_t first_len = size_t(static_cast<unsigned char>(bytes[0]));
  std::string rec = bytes.substr(16 + first_len);
  const unsigned char payload[] = {
      0x09, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,  // wall_time = 1.5 (field 1, fixed64)
      0x10, 0x03,                          // step = 3 (field 2, varint)
      0x2a, 0x0d,                          // summary (field 5, 13 bytes)
      0x0a, 0x0b,                          //   value (field 1, 11 bytes)
      0x0a, 0x04, 'l', 'o', 's', 's',      //     tag = "loss"
      0x15, 0, 0, 0x80, 0x3E};             //     simple_value = 0.25f (field 2, fixed32)
  const unsigned char length[] = {sizeof(payload), 0, 0, 0, 0, 0, 0, 0};
  auto le32 = [](uint32_t v) {
    std::string s;
    for (int i = 0; i < 4; ++i) s += char((v >> (8 * i)) & 0xff);
    return s;
  };
  std::string want(reinterpret_cast<const char*>(length), 8);
  want += le32(nn::masked_crc32c(length, 8));
  want.append(reinterpret_cast<const char*>(payload), sizeof(payload));
  want += le32(nn::masked_crc32c(payload, sizeof(payload)));
  CHECK(rec == want);
}

TEST_CASE("summary: flush() makes records readable while the writer is open, the destructor flushes") {
  TempDir tmp("summary_flush");
  std::string path;
  {
    nn::SummaryWriter w(tmp.str());
    path = w.path();
    w.add_scalar("x", 1, 1);
    w.flush();
    CHECK(read_event_file(path).size() == 2);
    for (int i = 0; i < 100; ++i) w.add_scalar("x", i, i);
  }
  CHECK(read_event_file(path).size() == 102);
}

TEST_CASE("summary: close() ends the file, writing after it raises") {
  TempDir tmp("summary_close");
  nn::SummaryWriter w(tmp.str());
  w.add_scalar("x", 1, 1);
  w.close();
  CHECK(read_event_file(w.path()).size() == 2);
  CHECK_THROWS_AS(w.add_scalar("x", 2, 2), IOError);
  w.close();  // twice is harmless
}

TEST_CASE("summary: the test reader rejects corrupted or truncated files") {
  TempDir tmp("summary_corrupt");
  std::string path;
  {
    nn::SummaryWriter w(tmp.str());
    path = w.path();
    w.add_scalar("loss", 0.5, 3);
  }
  std::string good = read_bytes(path);
  REQUIRE(read_event_file(path).size() == 2);
  auto write = [&](const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  };
  std::string flipped = good;
  flipped[good.size() - 6] ^= 0x01;  // inside the last payload
  write(flipped);
  CHECK_THROWS_WITH_AS(read_event_file(path), doctest::Contains("payload CRC mismatch"), std::runtime_error);
  std::string bad_len = good;
  bad_len[0] ^= 0x01;  // the first record's length
  write(bad_len);
  CHECK_THROWS_WITH_AS(read_event_file(path), doctest::Contains("length CRC mismatch"), std::runtime_error);
  write(good.substr(0, good.size() - 2));
  CHECK_THROWS_WITH_AS(read_event_file(path), doctest::Contains("truncated"), std::runtime_error);
}

TEST_CASE("summary: bad log dirs and tags raise mox errors naming them") {
  TempDir tmp("summary_bad");
  std::string file = tmp / "plain_file";
  std::ofstream(file) << "x";
  CHECK_THROWS_WITH_AS(nn::SummaryWriter(file + "/logs"), doctest::Contains("plain_file/logs"), IOError);
  CHECK_THROWS_AS(nn::SummaryWriter(""), IOError);
  nn::SummaryWriter w(tmp / "ok");
  CHECK_THROWS_WITH_AS(w.add_scalar("", 1, 0), doctest::Contains("tag is empty"), Error);
}

// Debian packages neither python3-tensorboard nor python3-tensorflow, so the independent reader
// is tests/ref/read_events.py: standard-library Python decoding the same framing and fields.
TEST_CASE("summary: an independent Python reader decodes the file the same way") {
  const char* python = "/usr/bin/python3";
  if (access(python, X_OK) != 0) {
    MESSAGE("skipped: /usr/bin/python3 is missing");
    return;
  }
  std::string script = std::string(MOX_TEST_DATA) + "/../ref/read_events.py";
  REQUIRE(std::filesystem::exists(script));
  TempDir tmp("summary_python");
  std::string path;
  {
    nn::SummaryWriter w(tmp / "logs");
    path = w.path();
    w.add_scalar("epoch_loss", 0.6931, 0, 1700000000.25);
    w.add_scalar("epoch_loss", 0.1234, 1, 1700000001.5);
    w.add_scalar("val_accuracy", 0.975, 1, 1700000001.75);
    w.add_scalar("unicode_tag_é", -2, 99999999999, 1700000002.0);
  }
  std::string out = tmp / "decoded.json";
  std::string cmd = std::string(python) + " '" + script + "' '" + path + "' > '" + out + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  nlohmann::json j = nlohmann::json::parse(read_bytes(out));
  auto mine = read_event_file(path);
  REQUIRE(j.size() == mine.size());
  CHECK(j[0]["file_version"] == "brain.Event:2");
  for (size_t i = 0; i < mine.size(); ++i) {
    CAPTURE(i);
    CHECK(j[i]["step"].get<int64_t>() == mine[i].step);
    CHECK(j[i]["wall_time"].get<double>() == mine[i].wall_time);
    REQUIRE(j[i]["values"].size() == mine[i].values.size());
    for (size_t k = 0; k < mine[i].values.size(); ++k) {
      CHECK(j[i]["values"][k]["tag"].get<std::string>() == mine[i].values[k].first);
      CHECK(float(j[i]["values"][k]["simple_value"].get<double>()) == mine[i].values[k].second);
    }
  }
  CHECK(j[2]["wall_time"].get<double>() == 1700000001.5);
  CHECK(j[4]["step"].get<int64_t>() == 99999999999);
  CHECK(j[4]["values"][0]["tag"] == "unicode_tag_é");

  // And the Python reader fails on a corrupted file, so agreement above means something.
  std::string bytes = read_bytes(path);
  bytes[bytes.size() - 7] ^= 0x10;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  std::string bad = std::string(python) + " '" + script + "' '" + path + "' > /dev/null 2>&1";
  CHECK(std::system(bad.c_str()) != 0);
}

}  // namespace mox::test
