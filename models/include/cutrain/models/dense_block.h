// DenseNet's dense block (d2l's DenseBlock) without repeated concatenation:
//   conv block i (i = 0 .. convs-1) = BN-ReLU-conv3x3 (pad 1, growth output channels) applied
//   to the concatenation of the block input and the outputs of conv blocks 0 .. i-1.
// The block's output tensor y [N, C0 + convs*growth, H, W] is the one buffer all of them share:
// the input is copied once into channels [0, C0), conv block i reads the channel slice
// [0, C0 + i*growth) and writes its output into [C0 + i*growth, C0 + (i+1)*growth). The slices
// are strided per sample (BatchView, see batch_view.h) and BatchNorm and Conv2d take them
// directly, so concatenation costs nothing. Backward mirrors it: one gradient buffer of y's
// shape starts as dy; going from the last conv block to the first, each conv block reads its
// output slice's (by then complete) gradient and BatchNorm adds its input gradient onto the
// slice [0, C0 + i*growth) (accumulate_dx). dx is the buffer's first C0 channels.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/layer.h"

namespace cutrain {

/// @brief Options of a dense block, validated by its constructor.
struct DenseBlockOptions {
  int64_t in_channels = 64;  ///< C0
  int64_t growth = 32;       ///< channels each conv block adds
  int64_t convs = 4;         ///< conv blocks
};

/// @brief [N, C0, H, W] -> [N, C0 + convs*growth, H, W]. Parameters and buffers are named like
/// d2l's module: "net.<i>.0.weight" (the BatchNorm of conv block i), "net.<i>.2.bias" (its
/// convolution).
class DenseBlock final : public Layer {
 public:
  explicit DenseBlock(DenseBlockOptions options);
  ~DenseBlock() override;
  std::string kind() const override { return "dense_block"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;
  std::vector<Parameter> parameters() override;
  std::vector<NamedTensor> buffers() override;
  void set_training(bool training) override;
  void set_cumulative_statistics(bool on) override;

  int64_t out_channels() const { return opt_.in_channels + opt_.convs * opt_.growth; }

 private:
  int64_t in_channels_of(int64_t i) const { return opt_.in_channels + i * opt_.growth; }

  DenseBlockOptions opt_;
  Shape in_shape_;
  std::vector<std::unique_ptr<BatchNorm>> bns_;  // fused BN-ReLU of conv block i
  std::vector<std::unique_ptr<Conv2d>> convs_;
  std::vector<Tensor> acts_;  // acts_[i] = relu(bn_i(slice)) [N, C0 + i*growth, H, W]
  Tensor grad_;               // dL/dy, accumulated over the conv blocks
  Tensor dact_;               // dL/d acts_[i], the widest conv block's size
};

}  // namespace cutrain
