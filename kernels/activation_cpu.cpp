#include "cpu_parallel.h"
#include "activation.h"

namespace cutrain::kernels {

void activation_forward_cpu(Activation a, const float* x, float* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) y[i] = activation_forward(a, x[i]);
}

void activation_backward_cpu(Activation a, const float* x, const float* y, const float* dy,
                             float* dx, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) dx[i] = activation_backward(a, x[i], y[i], dy[i]);
}

}  // namespace cutrain::kernels
