// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as used by TFRecord framing, and the
// "masked" form TFRecord stores: crcs of data that itself holds crcs are rotated and offset so
// that a checksum embedded in a payload does not trivially verify itself.
#pragma once
#include <cstddef>
#include <cstdint>

namespace mox::formats {

// Extends crc (0 for a fresh checksum) over n bytes. Slicing-by-8 tables.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

inline uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }
inline uint32_t unmask_crc(uint32_t masked) {
  uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}
inline uint32_t masked_crc32c(const void* data, size_t n) { return mask_crc(crc32c(data, n)); }

}  // namespace mox::formats
