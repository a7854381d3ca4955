// Element-wise sum of two arrays of n floats, optionally fused with ReLU (math in add_math.h).
// In-place use is allowed: y may be a or b, and dab may be dy (each element is read and written
// by the same iteration). The CUDA launchers are asynchronous on `stream`.
#pragma once

#include <cstdint>

#include "add_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

/// y = a + b (relu: max(a + b, 0)).
void add_forward_cpu(const float* a, const float* b, float* y, int64_t n, bool relu);
/// dab = dL/da = dL/db from dy and the forward's output y (read only when relu).
void add_backward_cpu(const float* y, const float* dy, float* dab, int64_t n, bool relu);

void launch_add_forward(const float* a, const float* b, float* y, int64_t n, bool relu,
                        cudaStream_t stream);
void launch_add_backward(const float* y, const float* dy, float* dab, int64_t n, bool relu,
                         cudaStream_t stream);

}  // namespace cutrain::kernels
