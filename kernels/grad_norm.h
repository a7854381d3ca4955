// Gradient clipping by global L2 norm, over the same chunk table as the optimizer step:
//   norm = sqrt(sum over all gradients of g^2)
//   grad_scale = min(1, max_norm / (norm + 1e-6))      (PyTorch's clip_grad_norm_ rule)
// Two deterministic stages, no atomics: per-chunk partial sums (one block per chunk), then one
// block adds the partials in a fixed order and writes norm and scale into the StepState the
// update reads. Nothing returns to the host.
#pragma once

#include <cstdint>

#include "cutrain/stream.h"
#include "multi_tensor.h"
#include "optimizer_math.h"

namespace cutrain::kernels {

/// @param partials one float per chunk (scratch)
void clip_grad_norm_cpu(const TensorChunk* table, int64_t chunks, float max_norm,
                        float* partials, StepState* state);

void launch_clip_grad_norm(const TensorChunk* device_table, int64_t chunks, float max_norm,
                           float* device_partials, StepState* device_state, cudaStream_t stream);

}  // namespace cutrain::kernels
