// Host memory for the CPU device: 64-byte aligned blocks (one cache line, one AVX-512 vector).
#include <cstdlib>
#include <cstring>

#include "kernels/runtime.h"

namespace mox::cpu {
namespace {

void* host_malloc(size_t nbytes, int) {
  size_t size = (nbytes + 63) / 64 * 64;
  return std::aligned_alloc(64, size ? size : 64);
}
void host_free(void* p, int) { std::free(p); }
void host_memcpy(void* dst, const void* src, size_t n, CopyKind) { std::memcpy(dst, src, n); }
int host_count() { return 1; }

}  // namespace

MOX_REGISTER_RUNTIME(CPU, DeviceRuntime{host_malloc, host_free, host_memcpy, host_count, nullptr});

}  // namespace mox::cpu
