// Checkpoints in the safetensors layout: round trips for every dtype, 0-d and empty tensors and
// metadata; the file's bytes checked by hand against the format (8-byte little-endian header
// length, a JSON header with dtype / shape / data_offsets, 8-byte aligned raw data); missing,
// truncated and malformed files raise mox::IOError naming the path; a failed save leaves the
// previous checkpoint intact and no temporary file behind.
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "nn/checkpoint.h"
#include "tests/support/check.h"

namespace mox::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A fresh, empty directory for one test case (per process, so concurrent runs do not collide),
// removed at the end.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("mox_test_ckpt_" + name + "_" + std::to_string(getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& f) const { return (path / f).string(); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}
std::string with_length_prefix(const std::string& header) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[size_t(i)] = char((uint64_t(header.size()) >> (8 * i)) & 0xff);
  return out + header;
}

// The IOError message load_checkpoint raises, or "" when it loads.
std::string load_error(const std::string& path) {
  try {
    nn::load_checkpoint(path);
  } catch (const IOError& e) {
    return e.what();
  }
  return "";
}

nn::Checkpoint sample_checkpoint() {
  nn::Checkpoint ck;
  const std::vector<double> v = {0.5, -1.25, 3, 0, 1, 2};
  ck.tensors["f32"] = from_vector({1.5f, -2.25f, 1e-7f, 3.4e38f, 0, -0.0}, {2, 3});
  ck.tensors["f16"] = from_vector(v, {3, 2}, opts(DType::f16));
  ck.tensors["bf16"] = from_vector(v, {6}, opts(DType::bf16));
  ck.tensors["f64"] = from_vector({1.0 / 3, -1e300, 2.5}, {3}, opts(DType::f64));
  ck.tensors["i32"] = from_vector({-2147483648.0, 2147483647, 7}, {3}, opts(DType::i32));
  ck.tensors["i64"] = from_vector({-4e15, 9e15, 1}, {1, 3}, opts(DType::i64));
  ck.tensors["u8"] = from_vector({0, 255, 17, 3}, {2, 2}, opts(DType::u8));
  ck.tensors["bool"] = from_vector({1, 0, 1}, {3}, opts(DType::boolean));
  ck.tensors["scalar"] = scalar_tensor(42.5, opts(DType::f64));
  ck.tensors["empty"] = zeros({0, 4});
  ck.tensors["layer.transposed"] = arange(12).reshape({3, 4}).t();  // not contiguous
  ck.metadata["global_step"] = "1200";
  ck.metadata["format"] = "mox";
  return ck;
}

}  // namespace

TEST_CASE("checkpoint: save / load round trip for every dtype, 0-d and empty tensors, metadata") {
  TempDir dir("roundtrip");
  nn::Checkpoint ck = sample_checkpoint();
  std::string path = dir / "sub/dir/model.safetensors";  // parent directories are created
  nn::save_checkpoint(path, ck);
  nn::Checkpoint back = nn::load_checkpoint(path);
  CHECK(back.metadata == ck.metadata);
  REQUIRE(back.tensors.size() == ck.tensors.size());
  for (auto& [name, t] : ck.tensors) {
    CAPTURE(name);
    REQUIRE(back.tensors.count(name));
    const Tensor& b = back.tensors.at(name);
    CHECK(b.dtype() == t.dtype());
    CHECK(b.sizes() == t.sizes());
    CHECK(b.tolist() == t.tolist());
  }
  CHECK(back.tensors.at("scalar").dim() == 0);
  CHECK(back.tensors.at("scalar").item() == 42.5);
  // Saving over an existing checkpoint replaces it.
  nn::Checkpoint small;
  small.tensors["only"] = ones({2});
  nn::save_checkpoint(path, small);
  nn::Checkpoint again = nn::load_checkpoint(path);
  CHECK(again.tensors.size() == 1);
  CHECK(again.metadata.empty());
  CHECK(fs::directory_iterator(dir.path / "sub/dir") != fs::directory_iterator());
  for (auto& e : fs::directory_iterator(dir.path / "sub/dir"))
    CHECK(e.path().filename() == "model.safetensors");  // no temporary left behind
}

TEST_CASE("checkpoint: the file is valid safetensors, byte by byte") {
  TempDir dir("layout");
  nn::Checkpoint ck = sample_checkpoint();
  std::string path = dir / "model.safetensors";
  nn::save_checkpoint(path, ck);
  std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() >= 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[size_t(i)])) << (8 * i);
  REQUIRE(8 + n <= bytes.size());
  CHECK((8 + n) % 8 == 0);  // the data starts 8-byte aligned
  std::string text = bytes.substr(8, n);
  CHECK(text.front() == '{');
  CHECK(text.find_last_not_of(' ') == text.rfind('}'));  // padded with spaces only
  json header = json::parse(text);
  REQUIRE(header.is_object());
  CHECK(header["__metadata__"] == json({{"global_step", "1200"}, {"format", "mox"}}));
  const std::map<DType, std::string> names = {{DType::f32, "F32"}, {DType::f16, "F16"}, {DType::bf16, "BF16"},
                                              {DType::f64, "F64"}, {DType::i32, "I32"}, {DType::i64, "I64"},
                                              {DType::u8, "U8"},   {DType::boolean, "BOOL"}};
  const std::string data = bytes.substr(8 + n);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto& [name, t] : ck.tensors) {
    CAPTURE(name);
    REQUIRE(header.contains(name));
    const json& e = header[name];
    CHECK(e.size() == 3);
    CHECK(e["dtype"] == names.at(t.dtype()));
    CHECK(e["shape"].get<Shape>() == t.sizes());
    REQUIRE(e["data_offsets"].size() == 2);
    uint64_t b = e["data_offsets"][0], end = e["data_offsets"][1];
    CHECK(end - b == uint64_t(t.nbytes()));
    REQUIRE(end <= data.size());
    // The raw bytes are the tensor's, row-major, little-endian.
    Tensor c = t.contiguous();
    CHECK(std::memcmp(data.data() + b, c.raw_data(), end - b) == 0);
    ranges.emplace_back(b, end);
  }
  CHECK(header.size() == ck.tensors.size() + 1);
  // The byte ranges tile the data section with no gaps or overlaps.
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (auto& [b, e] : ranges) {
    CHECK(b == at);
    at = e;
  }
  CHECK(at == data.size());
  // Spot-check two values by hand: f32 1.5 is 0x3FC00000, f16 0.5 is 0x3800 (little-endian).
  uint64_t f32_at = header["f32"]["data_offsets"][0], f16_at = header["f16"]["data_offsets"][0];
  CHECK(data.substr(f32_at, 4) == std::string("\x00\x00\xc0\x3f", 4));
  CHECK(data.substr(f16_at, 2) == std::string("\x00\x38", 2));
}

TEST_CASE("checkpoint: missing, truncated and malformed files raise mox::IOError naming the path") {
  TempDir dir("bad");
  std::string missing = dir / "nothing.safetensors";
  CHECK(load_error(missing).find(missing) != std::string::npos);
  CHECK(load_error(dir.path.string()).find(dir.path.string()) != std::string::npos);  // a directory

  std::string good = dir / "good.safetensors";
  nn::save_checkpoint(good, sample_checkpoint());
  std::string bytes = read_bytes(good);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<unsigned char>(bytes[size_t(i)])) << (8 * i);
  std::string cut = dir / "cut.safetensors";
  for (size_t len : {size_t(0), size_t(5), size_t(8), size_t(20), size_t(8 + n - 1), size_t(8 + n),
                     size_t(8 + n + 3), bytes.size() - 1}) {
    CAPTURE(len);
    write_bytes(cut, bytes.substr(0, len));
    std::string msg = load_error(cut);
    CHECK_MESSAGE(msg.find(cut) != std::string::npos, "message: '", msg, "'");
  }

  // Headers that are not safetensors JSON.
  std::string bad = dir / "bad.safetensors";
  const std::vector<std::string> headers = {
      "not json at all!",
      "[1, 2, 3]",
      "123",
      R"({"a": 5})",
      R"({"a": {"dtype": "F32"}})",
      R"({"a": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}})",
      R"({"a": {"dtype": 7, "shape": [1], "data_offsets": [0, 4]}})",
      R"({"a": {"dtype": "F32", "shape": "x", "data_offsets": [0, 4]}})",
      R"({"a": {"dtype": "F32", "shape": [-1, -1], "data_offsets": [0, 4]}})",
      R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}})",
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})",
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})",
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}})",
      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})",
      R"({"__metadata__": {"k": 5}})",
      R"({"__metadata__": [1]})",
  };
  for (const std::string& h : headers) {
    CAPTURE(h);
    write_bytes(bad, with_length_prefix(h) + std::string(8, '\0'));  // 8 data bytes
    std::string msg = load_error(bad);
    CHECK_MESSAGE(msg.find(bad) != std::string::npos, "message: '", msg, "'");
  }
  // A header length past the end of the file, and one of 2^64 - 1.
  write_bytes(bad, with_length_prefix("{}").substr(0, 8) + "{");
  CHECK(load_error(bad).find(bad) != std::string::npos);
  write_bytes(bad, std::string(8, '\xff') + "{}");
  CHECK(load_error(bad).find(bad) != std::string::npos);
  // A well-formed hand-written file loads (the reader does not depend on our writer's padding).
  write_bytes(bad, with_length_prefix(R"({"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})") +
                       std::string("\x01\x00\x00\x00\xfe\xff\xff\xff", 8));
  CHECK(nn::load_checkpoint(bad).tensors.at("a").tolist() == std::vector<double>{1, -2});
}

TEST_CASE("checkpoint: a failed save keeps the previous checkpoint and leaves no temporary file") {
  TempDir dir("failed_save");
  nn::Checkpoint v1, v2;
  v1.tensors["w"] = full({4}, 1.0);
  v2.tensors["w"] = full({4}, 2.0);
  std::string path = dir / "model.safetensors", tmp = path + ".tmp";
  auto still_v1 = [&] {
    CHECK(nn::load_checkpoint(path).tensors.at("w").tolist() == std::vector<double>{1, 1, 1, 1});
  };
  auto expect_io_error = [](const std::function<void()>& f, const std::string& names) {
    try {
      f();
      FAIL("no error");
    } catch (const IOError& e) {
      CHECK_MESSAGE(std::string(e.what()).find(names) != std::string::npos, "message: ", e.what());
    }
  };

  SUBCASE("tensors that cannot be saved") {
    nn::Checkpoint bad = v1;
    bad.tensors["__metadata__"] = ones({1});
    expect_io_error([&] { nn::save_checkpoint(path, bad); }, "__metadata__");
    bad.tensors.erase("__metadata__");
    bad.tensors["undefined"] = Tensor();
    expect_io_error([&] { nn::save_checkpoint(path, bad); }, "undefined");
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(tmp));
  }
  SUBCASE("the parent path is a regular file") {
    std::string file = dir / "plain_file";
    write_bytes(file, "x");
    std::string under = file + "/model.safetensors";
    expect_io_error([&] { nn::save_checkpoint(under, v2); }, under);
    CHECK(read_bytes(file) == "x");
  }
  SUBCASE("the temporary file cannot be created") {
    nn::save_checkpoint(path, v1);
    fs::create_directories(tmp + "/blocker");  // a directory where the temporary file goes
    expect_io_error([&] { nn::save_checkpoint(path, v2); }, path);
    still_v1();
    CHECK(fs::is_directory(tmp + "/blocker"));  // someone else's directory is left alone
  }
  SUBCASE("the disk fills up while writing") {
    nn::save_checkpoint(path, v1);
    fs::create_symlink("/dev/full", tmp);  // every write to the temporary fails with ENOSPC
    expect_io_error([&] { nn::save_checkpoint(path, v2); }, path);
    still_v1();
    CHECK_FALSE(fs::exists(fs::symlink_status(tmp)));
    CHECK(fs::exists("/dev/full"));
  }
  SUBCASE("the final name cannot be replaced") {
    fs::create_directories(path + "/occupied");  // a non-empty directory holds the name
    expect_io_error([&] { nn::save_checkpoint(path, v2); }, path);
    CHECK(fs::is_directory(path + "/occupied"));
    CHECK_FALSE(fs::exists(tmp));
  }
}

}  // namespace mox::test
