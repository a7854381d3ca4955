#include <cmath>

#include "grad_norm.h"

namespace cutrain::kernels {

void clip_grad_norm_cpu(const TensorChunk* table, int64_t chunks, float max_norm,
                        float* partials, StepState* state) {
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    double sum = 0.0;
    for (int64_t i = 0; i < table[c].length; ++i)
      sum += static_cast<double>(table[c].grad[i]) * table[c].grad[i];
    partials[c] = static_cast<float>(sum);
  }
  double total = 0.0;
  for (int64_t c = 0; c < chunks; ++c) total += partials[c];
  const float norm = static_cast<float>(std::sqrt(total));
  state->grad_norm = norm;
  state->grad_scale = std::fmin(1.0f, max_norm / (norm + 1e-6f));
}

}  // namespace cutrain::kernels
