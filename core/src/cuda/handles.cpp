#include "cuda/handles.h"

#include <cstdio>
#include <utility>

#include "cuda/blas_dnn_check.h"

namespace cutrain::detail {

CublasHandle::CublasHandle(cudaStream_t stream) {
  CUTRAIN_CUBLAS_CHECK(cublasCreate(&h_));
  try {  // the destructor does not run when the constructor throws
    CUTRAIN_CUBLAS_CHECK(cublasSetStream(h_, stream));
    // Pointer mode host: alpha/beta are constants of the layer, not per-step values.
    CUTRAIN_CUBLAS_CHECK(cublasSetPointerMode(h_, CUBLAS_POINTER_MODE_HOST));
  } catch (...) {
    cublasDestroy(std::exchange(h_, nullptr));
    throw;
  }
}
CublasHandle::~CublasHandle() {
  if (h_ && cublasDestroy(h_) != CUBLAS_STATUS_SUCCESS)
    std::fprintf(stderr, "cutrain: cublasDestroy failed\n");
}
CublasHandle::CublasHandle(CublasHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
CublasHandle& CublasHandle::operator=(CublasHandle&& o) noexcept {
  std::swap(h_, o.h_);
  return *this;
}

CudnnHandle::CudnnHandle(cudaStream_t stream) {
  CUTRAIN_CUDNN_CHECK(cudnnCreate(&h_));
  try {
    CUTRAIN_CUDNN_CHECK(cudnnSetStream(h_, stream));
  } catch (...) {
    cudnnDestroy(std::exchange(h_, nullptr));
    throw;
  }
}
CudnnHandle::~CudnnHandle() {
  if (h_ && cudnnDestroy(h_) != CUDNN_STATUS_SUCCESS)
    std::fprintf(stderr, "cutrain: cudnnDestroy failed\n");
}
CudnnHandle::CudnnHandle(CudnnHandle&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
CudnnHandle& CudnnHandle::operator=(CudnnHandle&& o) noexcept {
  std::swap(h_, o.h_);
  return *this;
}

}  // namespace cutrain::detail
