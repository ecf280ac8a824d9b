#include "nn/checkpoint.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/ops.h"

namespace mox::nn {
namespace {

const char* st_dtype(DType t) {
  switch (t) {
    case DType::f32: return "F32";
    case DType::f16: return "F16";
    case DType::bf16: return "BF16";
    case DType::f64: return "F64";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
    case DType::u8: return "U8";
    case DType::boolean: return "BOOL";
  }
  return "?";
}

DType parse_st_dtype(const std::string& s, const std::string& path) {
  for (DType t : {DType::f32, DType::f16, DType::bf16, DType::f64, DType::i32, DType::i64, DType::u8,
                  DType::boolean})
    if (s == st_dtype(t)) return t;
  throw IOError("load_checkpoint: " + path + ": unsupported dtype '" + s + "'");
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ckpt) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<Tensor> dense;
  size_t offset = 0;
  for (auto& [name, t] : ckpt.tensors) {
    MOX_CHECK_T(IOError, name != "__metadata__", "save_checkpoint", path, ": '__metadata__' cannot name a tensor");
    MOX_CHECK_T(IOError, t.defined(), "save_checkpoint", path, ": tensor '", name, "' is undefined");
    Tensor c = t.detach().to(Device::cpu()).contiguous();
    size_t n = size_t(c.nbytes());
    header[name] = {{"dtype", st_dtype(c.dtype())}, {"shape", c.sizes()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
    dense.push_back(c);
  }
  if (!ckpt.metadata.empty()) header["__metadata__"] = ckpt.metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  uint64_t len = text.size();

  // Every failure raises IOError naming the checkpoint and removes the temporary file this call
  // created; the previous checkpoint under the final name is untouched until the rename.
  namespace fs = std::filesystem;
  fs::path final_path(path);
  std::string tmp = path + ".tmp";
  std::error_code ec;
  if (final_path.has_parent_path()) {
    fs::create_directories(final_path.parent_path(), ec);
    MOX_CHECK_T(IOError, !ec, "save_checkpoint", "cannot write ", path, ": cannot create its directory (",
                ec.message(), ")");
  }
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    MOX_CHECK_T(IOError, out.good(), "save_checkpoint", "cannot write ", path, ": cannot create ", tmp);
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(len >> (8 * i));
    out.write(reinterpret_cast<const char*>(le), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const Tensor& c : dense) out.write(static_cast<const char*>(c.raw_data()), std::streamsize(c.nbytes()));
    out.flush();
    bool ok = out.good();
    out.close();
    if (!ok || out.fail()) {
      fs::remove(tmp, ec);
      throw IOError("save_checkpoint: cannot write " + path + ": writing " + tmp + " failed (disk full?)");
    }
  }
  fs::rename(tmp, final_path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw IOError("save_checkpoint: cannot write " + path + ": renaming " + tmp + " into place failed (" +
                  ec.message() + ")");
  }
}

namespace {

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

// Checks the header, fills ckpt.metadata and returns the tensor entries.
std::vector<Entry> parse_header(const nlohmann::json& header, uint64_t data_size, const std::string& path,
                                Checkpoint& ckpt) {
  MOX_CHECK_T(IOError, header.is_object(), "load_checkpoint", path, ": the header is not a JSON object");
  std::vector<Entry> entries;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      MOX_CHECK_T(IOError, entry.is_object(), "load_checkpoint", path, ": __metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        MOX_CHECK_T(IOError, v.is_string(), "load_checkpoint", path, ": metadata '", k, "' is not a string");
        ckpt.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& why) {
      return IOError("load_checkpoint: " + path + ": tensor '" + name + "' " + why);
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      throw bad("needs dtype, shape and data_offsets");
    if (!entry["dtype"].is_string()) throw bad("has a dtype that is not a string");
    Entry e{name, parse_st_dtype(entry["dtype"].get<std::string>(), path), {}, 0, 0};
    const nlohmann::json& shape = entry["shape"];
    if (!shape.is_array()) throw bad("has a shape that is not a list");
    uint64_t numel = 1;
    for (const nlohmann::json& d : shape) {
      if (!d.is_number_unsigned()) throw bad("has a bad shape " + shape.dump());
      uint64_t n = d.get<uint64_t>();
      if (n > uint64_t(INT64_MAX) || (n != 0 && numel > UINT64_MAX / n))
        throw bad("has a shape " + shape.dump() + " larger than the file");
      numel *= n;
      e.shape.push_back(int64_t(n));
    }
    if (numel > data_size) throw bad("has a shape " + shape.dump() + " larger than the file");
    const nlohmann::json& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad("needs data_offsets [begin, end]");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (!(e.begin <= e.end && e.end <= data_size && e.end - e.begin == numel * uint64_t(dtype_size(e.dtype))))
      throw bad("has a bad byte range (truncated file?)");
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace

Checkpoint load_checkpoint(const std::string& path) {
  std::error_code ec;
  MOX_CHECK_T(IOError, std::filesystem::is_regular_file(path, ec), "load_checkpoint", "cannot open ", path,
              " (missing or not a regular file)");
  uint64_t size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  MOX_CHECK_T(IOError, !ec && in.good(), "load_checkpoint", "cannot open ", path);
  unsigned char le[8];
  in.read(reinterpret_cast<char*>(le), 8);
  MOX_CHECK_T(IOError, in.good() && size >= 8, "load_checkpoint", path, " is truncated (no header length)");
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= uint64_t(le[i]) << (8 * i);
  MOX_CHECK_T(IOError, len <= size - 8, "load_checkpoint", path, " is truncated or not a safetensors file");
  std::string text(len, '\0');
  in.read(text.data(), std::streamsize(len));
  MOX_CHECK_T(IOError, in.good(), "load_checkpoint", path, ": reading the header failed");
  Checkpoint ckpt;
  std::vector<Entry> entries;
  try {
    entries = parse_header(nlohmann::json::parse(text), size - 8 - len, path, ckpt);
  } catch (const nlohmann::json::exception& e) {
    throw IOError("load_checkpoint: " + path + ": bad header: " + e.what());
  }
  for (const Entry& e : entries) {
    Tensor t = empty(e.shape, opts(e.dtype));
    in.seekg(std::streamoff(8 + len + e.begin));
    in.read(static_cast<char*>(t.raw_data()), std::streamsize(e.end - e.begin));
    MOX_CHECK_T(IOError, in.good(), "load_checkpoint", path, ": read of '", e.name, "' failed");
    ckpt.tensors[e.name] = t;
  }
  return ckpt;
}

}  // namespace mox::nn
