// This machine's f32 FMA throughput: the ceiling a convolution or GEMM can reach, so a bench
// can say what fraction of it Mox attains.
#pragma once
#include <optional>

namespace mox::bench {

// Peak f32 GFLOP/s (2 flops per FMA lane) of AVX-512 FMAs on `threads` OpenMP threads, each
// running the same register-resident loop; the best of a few runs of about `seconds` each.
// nullopt when the CPU has no AVX-512.
std::optional<double> fma_peak_gflops(int threads, double seconds = 0.1);

}  // namespace mox::bench
