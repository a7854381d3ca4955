// Checks for CUDA runtime calls and kernel launches: a failure throws DeviceError carrying the
// failed call, file, line and the runtime's error text. Private to the library.
#pragma once

#include <cuda_runtime.h>

#include <string>

namespace cutrain::detail {
[[noreturn]] void throw_cuda_error(const char* call, cudaError_t err, const char* file, int line);
/// For destructors: reports a failed call on stderr instead of throwing.
void log_cuda_error(const char* call, cudaError_t err, const char* file, int line);
}  // namespace cutrain::detail

#define CUTRAIN_CUDA_CHECK(call)                                                        \
  do {                                                                                  \
    cudaError_t cutrain_err_ = (call);                                                  \
    if (cutrain_err_ != cudaSuccess)                                                    \
      ::cutrain::detail::throw_cuda_error(#call, cutrain_err_, __FILE__, __LINE__);     \
  } while (0)

#define CUTRAIN_CUDA_LOG(call)                                                          \
  do {                                                                                  \
    cudaError_t cutrain_err_ = (call);                                                  \
    if (cutrain_err_ != cudaSuccess)                                                    \
      ::cutrain::detail::log_cuda_error(#call, cutrain_err_, __FILE__, __LINE__);       \
  } while (0)

/// After every kernel launch: catches bad launch configurations immediately.
#define CUTRAIN_CHECK_LAUNCH(kernel_name)                                                 \
  do {                                                                                    \
    cudaError_t cutrain_err_ = cudaGetLastError();                                        \
    if (cutrain_err_ != cudaSuccess)                                                      \
      ::cutrain::detail::throw_cuda_error("launch of " kernel_name, cutrain_err_, __FILE__, \
                                          __LINE__);                                      \
  } while (0)
