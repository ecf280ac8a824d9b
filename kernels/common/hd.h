// MOX_HD marks functions that both the CPU loops and CUDA kernels call.
#pragma once
#if defined(__CUDACC__)
#define MOX_HD __host__ __device__ inline
#else
#define MOX_HD inline
#endif
