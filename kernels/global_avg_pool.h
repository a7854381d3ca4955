// Global average pooling: x [planes, S] (planes = N*C, S = H*W, row-major) -> y [planes]
// (math and summation order in global_avg_pool_math.h). CUDA launchers are asynchronous on
// `stream`, deterministic, and match the CPU twin bit for bit in the forward.
#pragma once

#include <cstdint>

#include "cutrain/stream.h"
#include "global_avg_pool_math.h"

namespace cutrain::kernels {

void global_avg_pool_forward_cpu(const float* x, float* y, int64_t planes, int64_t s);
/// dx [planes, S] = dy[plane] / S (overwritten).
void global_avg_pool_backward_cpu(const float* dy, float* dx, int64_t planes, int64_t s);

void launch_global_avg_pool_forward(const float* x, float* y, int64_t planes, int64_t s,
                                    cudaStream_t stream);
void launch_global_avg_pool_backward(const float* dy, float* dx, int64_t planes, int64_t s,
                                     cudaStream_t stream);

}  // namespace cutrain::kernels
