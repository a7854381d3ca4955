// Move-only RAII owners of the cuBLASLt handle and descriptors. Private to the library.
#pragma once

#include <cublasLt.h>

#include <cstdint>
#include <utility>

#include "cuda/blas_dnn_check.h"

namespace cutrain::detail {

/// Owns one cuBLASLt object; `Destroy` runs once, on the last owner.
template <typename T, cublasStatus_t (*Destroy)(T)>
class CublasLtObject {
 public:
  CublasLtObject() = default;
  explicit CublasLtObject(T h) : h_(h) {}
  ~CublasLtObject() {
    if (h_) Destroy(h_);  // fails only for a null object
  }
  CublasLtObject(CublasLtObject&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  CublasLtObject& operator=(CublasLtObject&& o) noexcept {
    std::swap(h_, o.h_);
    return *this;
  }
  CublasLtObject(const CublasLtObject&) = delete;
  CublasLtObject& operator=(const CublasLtObject&) = delete;
  T get() const { return h_; }

 private:
  T h_ = nullptr;
};

using CublasLtHandle = CublasLtObject<cublasLtHandle_t, cublasLtDestroy>;
using MatmulDesc = CublasLtObject<cublasLtMatmulDesc_t, cublasLtMatmulDescDestroy>;
using MatrixLayout = CublasLtObject<cublasLtMatrixLayout_t, cublasLtMatrixLayoutDestroy>;
using MatmulPreference =
    CublasLtObject<cublasLtMatmulPreference_t, cublasLtMatmulPreferenceDestroy>;

inline CublasLtHandle make_cublaslt_handle() {
  cublasLtHandle_t h = nullptr;
  CUTRAIN_CUBLAS_CHECK(cublasLtCreate(&h));
  return CublasLtHandle(h);
}

/// A column-major float matrix of rows x cols with leading dimension ld.
inline MatrixLayout make_float_layout(int64_t rows, int64_t cols, int64_t ld) {
  cublasLtMatrixLayout_t l = nullptr;
  CUTRAIN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, CUDA_R_32F, static_cast<uint64_t>(rows),
                                                  static_cast<uint64_t>(cols), ld));
  return MatrixLayout(l);
}

/// FP32 in, FP32 accumulate, with op(A) and op(B); products in float32 (CUBLAS_COMPUTE_32F) or,
/// with `tf32`, on TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32).
inline MatmulDesc make_float_matmul(cublasOperation_t transa, cublasOperation_t transb, bool tf32) {
  cublasLtMatmulDesc_t d = nullptr;
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulDescCreate(
      &d, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F, CUDA_R_32F));
  MatmulDesc desc(d);
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSA, &transa,
                                                      sizeof transa));
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(d, CUBLASLT_MATMUL_DESC_TRANSB, &transb,
                                                      sizeof transb));
  return desc;
}

}  // namespace cutrain::detail
