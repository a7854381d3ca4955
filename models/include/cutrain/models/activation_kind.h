// The element-wise activations a network can use (math: kernels/activation_math.h).
#pragma once

namespace cutrain {

enum class ActivationKind { ReLU, Sigmoid };

inline const char* activation_name(ActivationKind k) {
  return k == ActivationKind::ReLU ? "relu" : "sigmoid";
}

}  // namespace cutrain
