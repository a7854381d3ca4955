// Plain SGD for one element: x <- x - eta * g.
// (The fused family of optimizers adds its rules beside this one, each a CUTRAIN_HD function.)
#pragma once

#include "hd.h"

namespace cutrain::kernels {

CUTRAIN_HD float sgd_update(float x, float g, float lr) { return x - lr * g; }

}  // namespace cutrain::kernels
