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

namespace cutrain::kernels {

/// a * b rounded once, never contracted with a following add into an FMA. nvcc contracts
/// `a * b + c` by default while the host compiler (ISO C++ mode, -ffp-contract=off) does not;
/// where one rounding step decides an index or a weight (e.g. a resize tap), kernels and CPU twins
/// must round identically.
CUTRAIN_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

}  // namespace cutrain::kernels
