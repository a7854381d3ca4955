// The layer-level ActivationKind as the kernels' Activation. Private.
#pragma once

#include "activation_math.h"
#include "cutrain/models/activation_kind.h"

namespace cutrain::detail {

inline kernels::Activation to_kernel(ActivationKind k) {
  return k == ActivationKind::ReLU ? kernels::Activation::ReLU : kernels::Activation::Sigmoid;
}

}  // namespace cutrain::detail
