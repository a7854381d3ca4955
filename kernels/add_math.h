// Residual sum, optionally followed by ReLU (ResNet: y = relu(F(x) + shortcut(x))):
//   forward   y = a + b                  (relu: y = max(a + b, 0))
//   backward  da = db = dy               (relu: dy where y > 0, else 0)
// The two inputs get the same gradient, so backward writes it once.
#pragma once

#include "hd.h"

namespace cutrain::kernels {

CUTRAIN_HD float add_forward_element(float a, float b, bool relu) {
  const float y = a + b;
  return relu && !(y > 0.0f) ? 0.0f : y;
}

CUTRAIN_HD float add_backward_element(float y, float dy, bool relu) {
  return relu && !(y > 0.0f) ? 0.0f : dy;
}

}  // namespace cutrain::kernels
