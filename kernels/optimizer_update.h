// Fused multi-tensor optimizer step: one launch updates every parameter of a model (table from
// multi_tensor.h, one block per chunk; 16-byte vector loads where a chunk's pointers allow,
// scalar tail otherwise). Per-element math: optimizer_math.h.
//
// `state` points to one StepState: host memory for the CPU twin, device memory for the launch.
// It is read, never written, by the update; the learning rate, step number and clip factor
// therefore come from memory at run time (CUDA-graph friendly).
#pragma once

#include <cstdint>

#include "cutrain/stream.h"
#include "multi_tensor.h"
#include "optimizer_math.h"

namespace cutrain::kernels {

void multi_tensor_update_cpu(OptimizerRule rule, const TensorChunk* table, int64_t chunks,
                             const RuleConstants& constants, const StepState* state);

void launch_multi_tensor_update(OptimizerRule rule, const TensorChunk* device_table,
                                int64_t chunks, const RuleConstants& constants,
                                const StepState* device_state, cudaStream_t stream);

/// begin_step (optimizer_math.h) on the device StepState: one thread, stream-ordered.
void launch_begin_step(StepState* device_state, cudaStream_t stream);
/// Writes lr (when `set_lr`) and the completed step count (when `set_step`) into the device
/// StepState, as a one-thread kernel: ordered on the stream like the updates, and no host
/// memory stays referenced (unlike an asynchronous copy from a pageable value).
void launch_set_step_state(StepState* device_state, bool set_lr, float lr, bool set_step,
                           int32_t completed_steps, cudaStream_t stream);

}  // namespace cutrain::kernels
