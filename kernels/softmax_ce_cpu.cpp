#include "cpu_parallel.h"
#include "softmax_ce.h"

#include "softmax_ce_math.h"

namespace cutrain::kernels {

void softmax_ce_cpu(const float* logits, const float* labels, int64_t n, int classes,
                    float grad_scale, float* dlogits, float* row_scratch, float* sums) {
  float* row_loss = row_scratch;
  float* row_hit = row_scratch + n;
#pragma omp parallel for schedule(static) if (n * classes >= kParallelMinElements)
  for (int64_t i = 0; i < n; ++i) {
    const SoftmaxCeRow r =
        softmax_ce_row(logits + i * classes, classes, label_index(labels[i], classes), grad_scale,
                       dlogits ? dlogits + i * classes : nullptr);
    row_loss[i] = r.loss;
    row_hit[i] = r.correct;
  }
  // Sequential sum in a fixed order: the same result for any thread count.
  double loss = 0.0, hits = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    loss += row_loss[i];
    hits += row_hit[i];
  }
  sums[0] = static_cast<float>(loss);
  sums[1] = static_cast<float>(hits);
}

}  // namespace cutrain::kernels
