// CUTRAIN_HD marks per-element math shared by CUDA kernels and their CPU twins.
#pragma once

#if defined(__CUDACC__)
#define CUTRAIN_HD __host__ __device__ __forceinline__
#else
#define CUTRAIN_HD inline
#endif
