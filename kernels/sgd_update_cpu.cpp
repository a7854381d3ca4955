#include "sgd_math.h"
#include "sgd_update.h"

namespace cutrain::kernels {

void sgd_update_cpu(const TensorChunk* table, int64_t chunks, const float* lr) {
  const float eta = *lr;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const TensorChunk& chunk = table[c];
    for (int64_t i = 0; i < chunk.length; ++i)
      chunk.param[i] = sgd_update(chunk.param[i], chunk.grad[i], eta);
  }
}

}  // namespace cutrain::kernels
