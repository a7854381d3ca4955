#include "cuda/check.h"

#include <cstdio>

#include "cutrain/error.h"

namespace cutrain::detail {

void throw_cuda_error(const char* call, cudaError_t err, const char* file, int line) {
  std::string what = std::string(call) + " failed: " + cudaGetErrorName(err) + " (" +
                     cudaGetErrorString(err) + ")";
  if (err == cudaErrorMemoryAllocation)
    what += "; the device is out of memory: try a smaller --batch-size";
  throw DeviceError(located(what, file, line));
}

void log_cuda_error(const char* call, cudaError_t err, const char* file, int line) {
  std::fprintf(stderr, "cutrain: %s failed: %s (at %s:%d)\n", call, cudaGetErrorString(err), file,
               line);
}

}  // namespace cutrain::detail
