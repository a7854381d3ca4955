// 2-D convolution (cross-correlation), NCHW:
//   y[n,o,i,j] = b[o] + sum_{c,u,v} W[o,c,u,v] * x[n, c, i*s - p + u, j*s - p + v]
// x [N, C, H, W], W [O, C, K, K], y [N, O, (H + 2p - K)/s + 1, (W + 2p - K)/s + 1].
// CUDA: cuDNN. CPU: im2col + OpenBLAS GEMM per image, images split across OpenMP threads.
#pragma once

#include <memory>
#include <optional>

#include "cutrain/batch_view.h"
#include "cutrain/models/layer.h"

namespace cutrain {

struct Conv2dOptions {
  int64_t in_channels = 1, out_channels = 1, kernel = 3, stride = 1, padding = 0;
};

class Conv2d final : public Layer {
 public:
  explicit Conv2d(Conv2dOptions options);
  ~Conv2d() override;
  std::string kind() const override { return "conv2d"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;
  std::vector<Parameter> parameters() override;
  /// Takes ReLU or sigmoid: y = act(conv(x) + b); on CUDA the bias and the activation are one
  /// pass after cuDNN's convolution, and backward's activation gradient and bias gradient one
  /// launch (kernels/channel_bias_activation.h). Via Sequential only (see Layer).
  bool absorb_activation(ActivationKind kind) override;

  /// @brief forward / backward on batches that may be strided per sample (channel slices of a
  /// larger buffer, see batch_view.h): x [n, C, H, W], y and dy [n, O, Ho, Wo] with the built
  /// C, H, W and n <= the built batch. dx, when given, must have x's batch stride. The
  /// Tensor overloads call these with packed views. With an absorbed activation, forward_view
  /// applies it, and backward_view throws (backward() takes the activated output's gradient).
  void forward_view(const BatchView& x, const BatchView& y, Context& ctx);
  void backward_view(const BatchView& x, const BatchView& dy, const BatchView* dx, Context& ctx);

  struct CudnnState;  // descriptors and algorithms per (batch, strides) (conv2d_cudnn.cpp)

 private:
  void check_views(const BatchView& x, const BatchView& y, const BatchView* dx) const;
  void forward_cpu(const BatchView& x, const BatchView& y);
  void backward_cpu(const BatchView& x, const BatchView& dy, const BatchView* dx);
  void forward_cuda(const BatchView& x, const BatchView& y, Context& ctx);
  // bias_done: the bias gradient is already in dbias_ (the fused activation backward).
  void backward_cuda(const BatchView& x, const BatchView& dy, const BatchView* dx, Context& ctx,
                     bool bias_done = false);

  Conv2dOptions opt_;
  Shape in_shape_, out_shape_;
  Tensor weight_, bias_, dweight_, dbias_;
  // CPU scratch, one slice per OpenMP thread, allocated at build: im2col columns, and partial
  // weight/bias gradients summed in thread order (deterministic).
  Tensor cols_, dweight_part_, dbias_part_;
  int threads_ = 1;
  Device device_ = Device::CPU;
  // An absorbed activation: its gradient of the pre-activation output [built batch, O, Ho, Wo],
  // and on CUDA the fused backward's partial sums and (zeroed) per-channel counters.
  std::optional<ActivationKind> act_;
  Tensor act_grad_, act_partials_, act_counters_;
  // shared_ptr, not unique_ptr: its deleter is bound where CudnnState is complete (the cuDNN
  // source file), so this header stays free of cuDNN types. Never actually shared.
  std::shared_ptr<CudnnState> cudnn_;
};

}  // namespace cutrain
