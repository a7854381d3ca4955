// CUTRAIN_HD marks per-element math shared by CUDA kernels and their CPU twins.
#pragma once

#if defined(__CUDACC__)
#define CUTRAIN_HD __host__ __device__ __forceinline__
#else
#define CUTRAIN_HD inline
#endif

// For constexpr helpers used in both host code and kernels.
#if defined(__CUDACC__)
#define CUTRAIN_HD_CONSTEXPR __host__ __device__ constexpr
#else
#define CUTRAIN_HD_CONSTEXPR constexpr
#endif
