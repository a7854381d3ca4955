// Running totals of the memory held by Tensors (and the library's raw device buffers: staging
// slots, a device-resident data set), per device: what a model, its activations, gradients,
// optimizer state, the cuDNN and cuBLAS workspaces and the input pipeline take (allocations made
// inside cuDNN or cuBLAS themselves are not counted; device_memory_in_use sees everything).
#pragma once

#include <cstdint>

#include "cutrain/device.h"

namespace cutrain {

/// @brief Bytes held by owning Tensors on one device: now, and the most at any time since the
/// start or the last reset_peak_tensor_memory(). Thread-safe.
struct TensorMemory {
  int64_t current_bytes = 0;
  int64_t peak_bytes = 0;
};

TensorMemory tensor_memory(Device device);
/// Sets the peak of `device` to its current bytes (to measure one phase, e.g. a training step).
void reset_peak_tensor_memory(Device device);

/// Bytes in use on the current CUDA device as the driver reports them (cudaMemGetInfo: total -
/// free, including the CUDA context and the libraries' own allocations); -1 without CUDA.
int64_t device_memory_in_use();

namespace detail {
/// Called by Tensor when it allocates and frees storage.
void note_tensor_alloc(Device device, int64_t bytes);
void note_tensor_free(Device device, int64_t bytes);
}  // namespace detail

}  // namespace cutrain
