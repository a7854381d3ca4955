// Batch normalization (shared/reference/batchnorm.md, PyTorch's conventions). Per channel c:
//   training:  y = gamma (x - mean_B) / sqrt(var_B + eps) + beta over the batch's values of c
//              (biased var_B); running_mean = (1 - m) running_mean + m mean_B and
//              running_var = (1 - m) running_var + m var_B M / (M - 1), M = values per channel
//   inference: y = gamma (x - running_mean) / sqrt(running_var + eps) + beta
// BatchNorm1d: x [N, C], statistics over N. BatchNorm2d: x [N, C, H, W], over N, H, W.
// Optionally fused with a following ReLU: y = max(bn(x), 0).
// CUDA: kernels/batchnorm.cu (no host reads, deterministic). CPU: kernels/batchnorm_cpu.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cutrain/batch_view.h"
#include "cutrain/models/layer.h"

namespace cutrain {

namespace kernels {
struct BnDims;
}

/// @brief Options of a batch-norm layer, validated by its constructor.
struct BatchNormOptions {
  double momentum = 0.1;   ///< weight of the batch statistics in the running averages, [0, 1]
  double eps = 1e-5;       ///< added to the variance, > 0
  bool fuse_relu = false;  ///< y = max(bn(x), 0); backward masks dy where y <= 0
};

/// @brief Batch normalization over the channels (dimension 1) of [N, C] or [N, C, H, W] input.
/// Parameters "weight" (gamma, init 1) and "bias" (beta, init 0), both [C]; buffers
/// "running_mean" (init 0) and "running_var" (init 1), both [C]. Training mode (the default,
/// see Layer::set_training) normalizes with the batch statistics and updates the buffers;
/// evaluation mode normalizes with the buffers. Backward follows a training-mode forward.
class BatchNorm final : public Layer {
 public:
  /// @param spatial_dims 0 for [N, C] input (BatchNorm1d), 2 for [N, C, H, W] (BatchNorm2d)
  BatchNorm(int spatial_dims, int64_t num_features, BatchNormOptions options = {});
  ~BatchNorm() override;
  std::string kind() const override;
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  /// Throws ConfigError in training mode when a channel has a single value (N*H*W == 1).
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;
  /// @brief forward / backward on batches that may be strided per sample (channel slices of a
  /// larger buffer, see batch_view.h). x and dx share a batch stride, y and dy another; all
  /// have the same shape. With `accumulate_dx` backward adds dL/dx to *dx instead of
  /// overwriting it (DenseBlock sums the gradients of the channels every later block reads).
  void forward_view(const BatchView& x, const BatchView& y, Context& ctx);
  void backward_view(const BatchView& x, const BatchView& y, const BatchView& dy,
                     const BatchView* dx, Context& ctx, bool accumulate_dx = false);
  std::vector<Parameter> parameters() override;
  /// "running_mean" and "running_var", [C] each, on the layer's device.
  std::vector<NamedTensor> buffers() override;
  /// On: the k-th training forward from now on updates the buffers with momentum 1/k (the first
  /// replaces them), so they hold the average of the batch statistics since the call.
  void set_cumulative_statistics(bool on) override;

  int64_t num_features() const { return features_; }
  const BatchNormOptions& options() const { return opt_; }

 private:
  std::string display_name() const;  ///< "BatchNorm2d(16)", for messages
  void check_input(const Shape& shape, bool built) const;
  /// Checks x and y against the built shape; their dims (strides included) for the kernels.
  kernels::BnDims view_dims(const BatchView& x, const BatchView& y) const;

  int spatial_dims_;
  int64_t features_;
  BatchNormOptions opt_;
  Shape in_shape_;
  Tensor weight_, bias_, dweight_, dbias_;
  Tensor running_mean_, running_var_;
  Tensor save_mean_, save_inv_std_;  // the last training forward's batch statistics
  Tensor scratch_;                   // CUDA: partial moments / sums of the multi-block kernels
  int64_t saved_batch_ = 0;          // batch of the last training forward (0: none yet)
  int64_t cumulative_batches_ = -1;  // batches averaged so far; -1: momentum as configured
};

/// BatchNorm over [N, C] input (statistics per feature over N).
inline std::unique_ptr<BatchNorm> BatchNorm1d(int64_t num_features, BatchNormOptions options = {}) {
  return std::make_unique<BatchNorm>(0, num_features, options);
}
/// BatchNorm over [N, C, H, W] input (statistics per channel over N, H, W).
inline std::unique_ptr<BatchNorm> BatchNorm2d(int64_t num_channels, BatchNormOptions options = {}) {
  return std::make_unique<BatchNorm>(2, num_channels, options);
}

}  // namespace cutrain
