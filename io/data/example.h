// One sample as it moves through the input pipeline, and its byte form: the payload of the
// records tools/mox_records writes and of the loader's cache files.
//   "MXE1" | u8 kind (0: encoded image file, 1: decoded pixels) | u32 name length | name |
//   u32 label count | i64 labels... | kind 0: the file's bytes | kind 1: u32 H, W, C | pixels
// (integers little-endian).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace mox::data {

struct Example {
  std::string name;              // where it came from (file URL or record key)
  std::string encoded;           // the image file's bytes, until decoded
  Tensor image;                  // u8 [H, W, C] once decoded
  std::vector<int64_t> labels;   // one class index, or several for multilabel data
};

// Stores the decoded image when there is one, else the encoded bytes.
std::string serialize_example(const Example& e);
// Throws IOError naming `where` when the payload is not an example.
Example parse_example(std::string_view payload, const std::string& where);

}  // namespace mox::data
