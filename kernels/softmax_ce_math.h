// Fused softmax + cross-entropy for one row of C logits z with integer label y:
//   m = max_c z_c,  lse = m + log(sum_c exp(z_c - m)),  loss = lse - z_y
//   dz_c = (exp(z_c - lse) - [c == y]) * grad_scale          (grad_scale = 1/N for a mean loss)
// Subtracting the max keeps exp() in range for large logits. The prediction is the first arg max.
#pragma once

#include <math.h>

#include "hd.h"

namespace cutrain::kernels {

struct SoftmaxCeRow {
  float loss;
  float correct;  // 1 when the first arg max equals the label
};

CUTRAIN_HD SoftmaxCeRow softmax_ce_row(const float* z, int classes, int label, float grad_scale,
                                       float* dz) {
  float m = z[0];
  int arg = 0;
  for (int c = 1; c < classes; ++c) {
    if (z[c] > m) {
      m = z[c];
      arg = c;
    }
  }
  float sum = 0.0f;
  for (int c = 0; c < classes; ++c) sum += expf(z[c] - m);
  const float lse = m + logf(sum);
  if (dz != nullptr) {
    for (int c = 0; c < classes; ++c)
      dz[c] = (expf(z[c] - lse) - (c == label ? 1.0f : 0.0f)) * grad_scale;
  }
  // An out-of-range label (impossible after dataset validation) yields NaN, never a bad read.
  const float z_label = (label >= 0 && label < classes) ? z[label] : NAN;
  return {lse - z_label, arg == label ? 1.0f : 0.0f};
}

}  // namespace cutrain::kernels
