// A learnable parameter as layers expose it and optimizers consume it.
#pragma once

#include <string>

#include "cutrain/tensor.h"

namespace cutrain {

/// @brief Non-owning: the layer owns `value` and `grad` (same shape, same device). Names follow
/// PyTorch's state_dict keys ("0.weight", "3.bias", ...).
struct Parameter {
  std::string name;
  Tensor* value = nullptr;
  Tensor* grad = nullptr;
};

/// @brief A named, non-owning reference to a tensor (buffers, checkpoint entries).
struct NamedTensor {
  std::string name;
  Tensor* tensor = nullptr;
};

}  // namespace cutrain
