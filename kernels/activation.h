// Element-wise activation forward/backward over n floats (math in activation_math.h).
#pragma once

#include <cstdint>

#include "activation_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

void activation_forward_cpu(Activation a, const float* x, float* y, int64_t n);
void activation_backward_cpu(Activation a, const float* x, const float* y, const float* dy,
                             float* dx, int64_t n);

void launch_activation_forward(Activation a, const float* x, float* y, int64_t n,
                               cudaStream_t stream);
void launch_activation_backward(Activation a, const float* x, const float* y, const float* dy,
                                float* dx, int64_t n, cudaStream_t stream);

}  // namespace cutrain::kernels
