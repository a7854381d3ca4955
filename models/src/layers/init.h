// Parameter initialisation on the host (then copied to the parameter's device), so a seed gives
// the same weights on the CPU and on CUDA.
#pragma once

#include <cmath>
#include <vector>

#include "cutrain/rng.h"
#include "cutrain/tensor.h"

namespace cutrain::detail {

/// Xavier/Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
inline void xavier_uniform(Tensor& w, int64_t fan_in, int64_t fan_out, Rng& rng) {
  const float a = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
  std::vector<float> host(static_cast<size_t>(w.numel()));
  for (float& v : host) v = rng.uniform(-a, a);
  w.copy_from_host(host.data(), w.numel());
}

/// A parameter and its gradient, zero-initialised, on `device`.
inline void make_param(Tensor& value, Tensor& grad, const Shape& shape, Device device) {
  value = Tensor::zeros(shape, device);
  grad = Tensor::zeros(shape, device);
}

}  // namespace cutrain::detail
