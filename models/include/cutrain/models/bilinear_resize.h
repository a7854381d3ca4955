// Bilinear resize of NCHW images to a fixed size, align_corners = False (PyTorch's
// F.interpolate(mode="bilinear") and torchvision's Resize on tensors without antialiasing; math
// in kernels/bilinear_resize_math.h). The trainer applies it to the staged input batch on the
// training device (`cutrain train --resize 96`); as a layer it also has a backward (the adjoint,
// gathered without atomics).
#pragma once

#include "cutrain/models/layer.h"

namespace cutrain {

/// @brief [N, C, H, W] -> [N, C, out_height, out_width].
class BilinearResize final : public Layer {
 public:
  BilinearResize(int64_t out_height, int64_t out_width);
  std::string kind() const override { return "bilinear_resize"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;

 private:
  int64_t out_h_, out_w_;
  Shape in_shape_;
};

}  // namespace cutrain
