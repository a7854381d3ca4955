// Checks for cuBLAS and cuDNN calls (same contract as CUTRAIN_CUDA_CHECK). Private.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

namespace cutrain::detail {
[[noreturn]] void throw_cublas_error(const char* call, cublasStatus_t st, const char* file,
                                     int line);
[[noreturn]] void throw_cudnn_error(const char* call, cudnnStatus_t st, const char* file, int line);
}  // namespace cutrain::detail

#define CUTRAIN_CUBLAS_CHECK(call)                                                    \
  do {                                                                                \
    cublasStatus_t cutrain_st_ = (call);                                              \
    if (cutrain_st_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::cutrain::detail::throw_cublas_error(#call, cutrain_st_, __FILE__, __LINE__);  \
  } while (0)

#define CUTRAIN_CUDNN_CHECK(call)                                                     \
  do {                                                                                \
    cudnnStatus_t cutrain_st_ = (call);                                               \
    if (cutrain_st_ != CUDNN_STATUS_SUCCESS)                                          \
      ::cutrain::detail::throw_cudnn_error(#call, cutrain_st_, __FILE__, __LINE__);   \
  } while (0)
