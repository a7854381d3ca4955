// Fused softmax + cross-entropy for one row of C logits z with integer label y:
//   m = max_c z_c,  s = sum_c exp(z_c - m),  loss = (m - z_y) + log(s)
//   dz_c = (exp(z_c - m) / s - [c == y]) * grad_scale          (grad_scale = 1/N for a mean loss)
// Subtracting the max keeps exp() in range for large logits. The prediction is the first arg max.
#pragma once

#include <math.h>

#include "hd.h"

namespace cutrain::kernels {

struct SoftmaxCeRow {
  float loss;
  float correct;  // 1 when the first arg max equals the label
};

/// The class index stored as a float label, or -1 when it is not one (NaN, negative, >= classes):
/// casting such a float to int is undefined and differs between host and device.
CUTRAIN_HD int label_index(float label, int classes) {
  return (label >= 0.0f && label < static_cast<float>(classes)) ? static_cast<int>(label) : -1;
}

/// The prediction: the first index of the largest of z[0..classes) (0 when they are all NaN).
CUTRAIN_HD int first_arg_max(const float* z, int classes) {
  int arg = 0;
  for (int c = 1; c < classes; ++c)
    if (z[c] > z[arg]) arg = c;
  return arg;
}

CUTRAIN_HD SoftmaxCeRow softmax_ce_row(const float* z, int classes, int label, float grad_scale,
                                       float* dz) {
  const int arg = first_arg_max(z, classes);
  const float m = z[arg];
  // Probabilities as exp(z - m) / sum rather than exp(z - lse): with |z| ~ 1e4 the float lse
  // loses the small log(sum) term, and the gradient with it.
  float sum = 0.0f;
  for (int c = 0; c < classes; ++c) sum += expf(z[c] - m);
  const float inv_sum = 1.0f / sum;
  if (dz != nullptr) {
    for (int c = 0; c < classes; ++c)
      dz[c] = (expf(z[c] - m) * inv_sum - (c == label ? 1.0f : 0.0f)) * grad_scale;
  }
  // An out-of-range label (impossible after dataset validation) yields NaN, never a bad read.
  const float z_label = (label >= 0 && label < classes) ? z[label] : NAN;
  return {(m - z_label) + logf(sum), arg == label ? 1.0f : 0.0f};
}

}  // namespace cutrain::kernels
