#include "cuda/blas_dnn_check.h"

#include <string>

#include "cutrain/error.h"

namespace cutrain::detail {

void throw_cublas_error(const char* call, cublasStatus_t st, const char* file, int line) {
  throw DeviceError(located(std::string(call) + " failed: " + cublasGetStatusName(st) + " (" +
                                cublasGetStatusString(st) + ")",
                            file, line));
}

void throw_cudnn_error(const char* call, cudnnStatus_t st, const char* file, int line) {
  throw DeviceError(
      located(std::string(call) + " failed: " + cudnnGetErrorString(st), file, line));
}

}  // namespace cutrain::detail
