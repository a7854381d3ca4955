// Fused softmax-cross-entropy over a batch (math in softmax_ce_math.h).
// Layout: logits [n, classes] row-major; labels [n] as floats holding class indices.
// Outputs: dlogits [n, classes] (optional), and sums[0] = sum of row losses, sums[1] = number of
// correct predictions of this batch, written (not accumulated) so the caller can keep one slot
// per batch and read them all once per epoch: no atomics, deterministic.
#pragma once

#include <cstdint>

#include "cutrain/stream.h"

namespace cutrain::kernels {

/// @param row_scratch 2*n floats of scratch (row losses, row hits)
void softmax_ce_cpu(const float* logits, const float* labels, int64_t n, int classes,
                    float grad_scale, float* dlogits, float* row_scratch, float* sums);

void launch_softmax_ce(const float* logits, const float* labels, int64_t n, int classes,
                       float grad_scale, float* dlogits, float* row_scratch, float* sums,
                       cudaStream_t stream);

}  // namespace cutrain::kernels
