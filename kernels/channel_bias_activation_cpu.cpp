#include "channel_bias_activation.h"

#include "cpu_parallel.h"

namespace cutrain::kernels {

void bias_activation_forward_cpu(Activation a, const ChannelDims& d, const float* bias, float* y) {
#pragma omp parallel for schedule(static) if (d.n * d.channels * d.hw >= kParallelMinElements)
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t c = 0; c < d.channels; ++c) {
      float* p = y + i * d.stride + c * d.hw;
      const float b = bias[c];
      for (int64_t j = 0; j < d.hw; ++j) p[j] = activation_forward(a, p[j] + b);
    }
}

void activation_bias_backward_cpu(Activation a, const ChannelDims& d, const float* y,
                                  const float* dy, float* g, float* db) {
  // Per channel, images in order, in double: the reference the CUDA sums are compared with.
#pragma omp parallel for schedule(static) if (d.n * d.channels * d.hw >= kParallelMinElements)
  for (int64_t c = 0; c < d.channels; ++c) {
    double sum = 0.0;
    for (int64_t i = 0; i < d.n; ++i) {
      const int64_t base = i * d.stride + c * d.hw;
      for (int64_t j = 0; j < d.hw; ++j) {
        const float v = activation_backward_from_output(a, y[base + j], dy[base + j]);
        g[base + j] = v;
        sum += v;
      }
    }
    db[c] = static_cast<float>(sum);
  }
}

}  // namespace cutrain::kernels
