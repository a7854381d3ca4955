// Global average pooling, NCHW: y[n, c, 0, 0] = mean of x[n, c, :, :] (d2l's
// nn.AdaptiveAvgPool2d((1, 1))); dx = dy / (H*W) at every position. A Flatten after it gives
// [N, C], so the dense head does not depend on the input size.
// CUDA: kernels/global_avg_pool.cu (one warp per plane, same summation order as the CPU twin).
#pragma once

#include "cutrain/models/layer.h"

namespace cutrain {

/// @brief [N, C, H, W] -> [N, C, 1, 1], the mean of each plane.
class GlobalAvgPool2d final : public Layer {
 public:
  std::string kind() const override { return "global_avg_pool2d"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;

 private:
  Shape in_shape_;
};

}  // namespace cutrain
