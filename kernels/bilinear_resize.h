// Bilinear resize (align_corners = False, PyTorch's convention; math in bilinear_resize_math.h)
// of `planes` row-major planes [h, w] -> [ho, wo] (planes = N*C of an NCHW batch). x and y must
// not alias. CUDA launchers are asynchronous on `stream` and deterministic (no atomics).
#pragma once

#include <cstdint>

#include "bilinear_resize_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

struct ResizeDims {
  int64_t planes = 0, h = 0, w = 0, ho = 0, wo = 0;
};

void bilinear_resize_forward_cpu(const ResizeDims& d, const float* x, float* y);
/// dx [planes, h, w] (overwritten) from dy [planes, ho, wo].
void bilinear_resize_backward_cpu(const ResizeDims& d, const float* dy, float* dx);

void launch_bilinear_resize_forward(const ResizeDims& d, const float* x, float* y,
                                    cudaStream_t stream);
void launch_bilinear_resize_backward(const ResizeDims& d, const float* dy, float* dx,
                                     cudaStream_t stream);

}  // namespace cutrain::kernels
