// SummaryWriter: scalar summaries in TensorBoard's event-file format, so `tensorboard --logdir`
// plots a Mox run. A writer creates one file, events.out.tfevents.<unix time>.<hostname>, in its
// log dir. The file is a sequence of TFRecord-framed records:
//   uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes,
//   payload, uint32 masked CRC32C of the payload,
// with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8. Each payload is a tensorflow.Event
// protobuf (tensorflow/core/util/event.proto), encoded here by hand:
//   Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
// The first record carries file_version "brain.Event:2"; each add_scalar writes one Event.
#pragma once
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>

namespace mox::nn {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven. crc continues a
// running value: crc32c(b, nb, crc32c(a, na)) == crc32c(a ++ b).
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);
// TFRecord's masking of a CRC (so a CRC stored inside CRC'd data does not weaken the check).
uint32_t mask_crc(uint32_t crc);
inline uint32_t masked_crc32c(const void* data, size_t n) { return mask_crc(crc32c(data, n)); }

class SummaryWriter {
 public:
  // Creates log_dir (and parents) and the event file, and writes the file_version record.
  // Raises mox::IOError naming the path when either cannot be created.
  explicit SummaryWriter(const std::string& log_dir);
  ~SummaryWriter();  // flushes and closes
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  // One Event {wall_time, step, summary {value {tag, simple_value}}}. wall_time defaults to
  // now, in seconds since the Unix epoch. The value is stored as a float, as TensorBoard does.
  void add_scalar(const std::string& tag, double value, int64_t step,
                  std::optional<double> wall_time = std::nullopt);
  // Hands buffered records to the OS; raises mox::IOError when writing failed.
  void flush();
  void close();

  const std::string& path() const { return path_; }
  const std::string& log_dir() const { return log_dir_; }

 private:
  void write_record(const std::string& payload);
  std::string log_dir_, path_;
  std::ofstream out_;
};

}  // namespace mox::nn
