// ResNet's residual block (d2l's Residual):
//   y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
// conv1: 3x3, pad 1, stride s, in -> out channels; conv2: 3x3, pad 1, out -> out;
// shortcut: x itself (in == out, s == 1), or conv3 (1x1, stride s, in -> out) when use_1x1conv,
// optionally followed by a BatchNorm (torchvision's downsample; d2l has none).
// The block owns its sub-layers and its intermediate activations and gradients (allocated at
// build for the built batch; smaller batches use views of their first rows). The final BN
// writes into y and the residual sum + ReLU runs in place on it (kernels/add.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/layer.h"

namespace cutrain {

/// @brief Options of a residual block, validated by its constructor.
struct ResidualBlockOptions {
  int64_t in_channels = 64, out_channels = 64;
  int64_t stride = 1;        ///< of conv1 and of the 1x1 shortcut
  bool use_1x1conv = false;  ///< shortcut through a 1x1 conv (required when shapes change)
  bool shortcut_bn = false;  ///< BatchNorm after the 1x1 shortcut conv
};

/// @brief [N, in, H, W] -> [N, out, (H - 1)/s + 1, (W - 1)/s + 1]. Parameters and buffers
/// are named like d2l's module: "conv1.weight", "bn1.running_mean", "conv3.bias", ...
class ResidualBlock final : public Layer {
 public:
  explicit ResidualBlock(ResidualBlockOptions options);
  ~ResidualBlock() override;
  std::string kind() const override { return "residual"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;
  std::vector<Parameter> parameters() override;
  std::vector<NamedTensor> buffers() override;
  void set_training(bool training) override;
  void set_cumulative_statistics(bool on) override;

  const ResidualBlockOptions& options() const { return opt_; }

 private:
  ResidualBlockOptions opt_;
  std::unique_ptr<Conv2d> conv1_, conv2_, conv3_;  // conv3_: the 1x1 shortcut, if any
  std::unique_ptr<BatchNorm> bn1_, bn2_, bn3_;     // bn1_ fuses the ReLU; bn3_: shortcut BN
  // Activations at the built batch: t1 = conv1(x), a1 = relu(bn1(t1)), t2 = conv2(a1),
  // sc = conv3(x), sc_bn = bn3(sc). Gradient scratch: g = dL/d(sum), d1, d2 (output-sized),
  // dsc (input-sized: the shortcut's part of dx).
  Tensor t1_, a1_, t2_, sc_, sc_bn_;
  Tensor g_, d1_, d2_, dsc_;
};

}  // namespace cutrain
