#include "add.h"

namespace cutrain::kernels {

void add_forward_cpu(const float* a, const float* b, float* y, int64_t n, bool relu) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = add_forward_element(a[i], b[i], relu);
}

void add_backward_cpu(const float* y, const float* dy, float* dab, int64_t n, bool relu) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) dab[i] = add_backward_element(relu ? y[i] : 0.0f, dy[i], relu);
}

}  // namespace cutrain::kernels
