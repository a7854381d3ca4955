// A layer's bias and activation over channels, fused (math in activation_math.h), for layers
// that absorb the activation after them (Conv2d: cuDNN computes the convolution, this the rest):
//   forward   y[i, c, j] = act(y[i, c, j] + b[c])                       (in place)
//   backward  g[i, c, j] = act'(y[i, c, j]) * dy[i, c, j]   (act' from the output y)
//             db[c]      = sum_{i, j} g[i, c, j]
// for i < n images, c < channels, j < hw, with images `*_stride` floats apart (channel slices of
// a larger buffer allowed). Backward is one launch: blocks of a channel write partial sums and
// the last one to finish adds them in a fixed order (deterministic); its counters reset
// themselves, so a CUDA graph replays it without a memset.
#pragma once

#include <cstdint>

#include "activation_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

struct ChannelDims {
  int64_t n, channels, hw;
  int64_t stride;  ///< floats between images (>= channels * hw)
};

void bias_activation_forward_cpu(Activation a, const ChannelDims& d, const float* bias, float* y);
/// g may be dy (in place); db gets `channels` sums.
void activation_bias_backward_cpu(Activation a, const ChannelDims& d, const float* y,
                                  const float* dy, float* g, float* db);

/// Floats and counters the backward launch needs as scratch for `d` (allocate once, zeroed
/// counters; reused by every later launch of at most this size).
int64_t activation_bias_backward_partials(const ChannelDims& d);
void launch_bias_activation_forward(Activation a, const ChannelDims& d, const float* bias,
                                    float* y, cudaStream_t stream);
/// `partials`: activation_bias_backward_partials(d) floats; `counters`: `channels` zeroed
/// unsigned ints, left zeroed.
void launch_activation_bias_backward(Activation a, const ChannelDims& d, const float* y,
                                     const float* dy, float* g, float* db, float* partials,
                                     unsigned* counters, cudaStream_t stream);

}  // namespace cutrain::kernels
