// Element-wise activations and their derivatives, written in terms of what backward keeps:
//   relu:    y = max(x, 0),          dx = dy * [x > 0]
//   sigmoid: y = 1 / (1 + exp(-x)),  dx = dy * y * (1 - y)
// (relu's mask from y > 0 instead of x > 0 is the same: activation_backward_from_output).
#pragma once

#include <math.h>

#include "hd.h"

namespace cutrain::kernels {

enum class Activation { ReLU, Sigmoid };

CUTRAIN_HD float activation_forward(Activation a, float x) {
  if (a == Activation::ReLU) return x > 0.0f ? x : 0.0f;
  return 1.0f / (1.0f + expf(-x));
}

CUTRAIN_HD float activation_backward(Activation a, float x, float y, float dy) {
  if (a == Activation::ReLU) return x > 0.0f ? dy : 0.0f;
  return dy * y * (1.0f - y);
}

/// The same derivative from the output alone (for layers that keep only y): relu's y > 0
/// exactly when x > 0 (NaN included: y = 0), so both forms give the same bits.
CUTRAIN_HD float activation_backward_from_output(Activation a, float y, float dy) {
  if (a == Activation::ReLU) return y > 0.0f ? dy : 0.0f;
  return dy * y * (1.0f - y);
}

}  // namespace cutrain::kernels
