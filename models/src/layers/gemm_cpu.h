// Row-major single-precision GEMM on the CPU: C = alpha * op(A) op(B) + beta * C, through
// OpenBLAS's CBLAS interface (declared here so no particular cblas.h variant is required).
#pragma once

#include <cstdint>

namespace cutrain::detail {

void gemm_cpu(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc);

}  // namespace cutrain::detail
