// Record files framed like TFRecord, so a damaged file is detected and located:
//   u64 length (little-endian) | u32 masked crc32c(length bytes) | payload | u32 masked crc32c(payload)
// A file is a plain sequence of such records. Payloads are opaque bytes (io/data/example.h
// defines the one the data layer stores).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace mox::formats {

// A truncated or corrupt record: the message names the file and the record's byte offset.
class RecordError : public IOError {
 public:
  RecordError(const std::string& file, uint64_t offset, const std::string& why);
  std::string file;
  uint64_t offset;
};

// Appends one framed record to out.
void append_record(std::string& out, std::string_view payload);

// Collects records in memory and writes the file (local path or URL) in one piece on close().
// Callers shard their data into files of bounded size (tools/mox_records does).
class RecordWriter {
 public:
  explicit RecordWriter(std::string url);
  ~RecordWriter();  // writes what was not closed; errors are only reported by close()
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;
  void write(std::string_view payload);
  void close();
  int64_t count() const { return count_; }
  size_t bytes() const { return buf_.size(); }
  const std::string& url() const { return url_; }

 private:
  std::string url_, buf_;
  int64_t count_ = 0;
  bool closed_ = false;
};

// Walks the records of a file's bytes in order.
class RecordReader {
 public:
  RecordReader(std::string bytes, std::string name);
  static RecordReader open(const std::string& url);  // reads the whole file
  // The next payload (valid until the next call), or nullopt at a clean end of file.
  // Throws RecordError on a truncated or corrupt record.
  std::optional<std::string_view> next();
  uint64_t offset() const { return pos_; }
  const std::string& name() const { return name_; }

 private:
  std::string bytes_, name_;
  uint64_t pos_ = 0;
};

}  // namespace mox::formats
