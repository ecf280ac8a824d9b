// Device kinds, shared by the kernel tables and core's Device.
#pragma once
#include <cstdint>

namespace mox {

enum class DeviceType : uint8_t { CPU, CUDA };
constexpr int kNumDeviceTypes = 2;

inline constexpr const char* device_type_name(DeviceType t) {
  return t == DeviceType::CPU ? "cpu" : "cuda";
}

}  // namespace mox
