// SGD over a multi-tensor chunk table (see multi_tensor.h), one launch per step.
// The learning rate is read from memory (`lr` points to one float: host memory on the CPU,
// device memory on CUDA) so a captured graph picks up scheduler changes.
#pragma once

#include <cstdint>

#include "cutrain/stream.h"
#include "multi_tensor.h"

namespace cutrain::kernels {

void sgd_update_cpu(const TensorChunk* table, int64_t chunks, const float* lr);
void launch_sgd_update(const TensorChunk* device_table, int64_t chunks, const float* device_lr,
                       cudaStream_t stream);

}  // namespace cutrain::kernels
