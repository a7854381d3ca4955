// 2-D max and average pooling, NCHW, window k, stride s, padding p (default 0), output
// (H + 2p - k)/s + 1 per side; PyTorch's conventions for the padding:
//   max: y = max over the window's positions inside the image (padding never wins); dx gets dy
//        at the first such maximum of each window (row-major order)
//   avg: y = sum over the window's positions inside the image / k^2 (padding counts as zeros,
//        count_include_pad); dx gets dy / k^2 at every position inside the image
// CUDA: cuDNN (deterministic max). CPU: loops over (n, c) planes with OpenMP.
#pragma once

#include <memory>

#include "cutrain/models/layer.h"

namespace cutrain {

enum class PoolMode { Max, Average };

class Pool2d final : public Layer {
 public:
  /// @param padding implicit border on each side, 0 <= padding <= kernel / 2 (as in PyTorch)
  Pool2d(PoolMode mode, int64_t kernel, int64_t stride, int64_t padding = 0);
  ~Pool2d() override;
  std::string kind() const override { return mode_ == PoolMode::Max ? "maxpool2d" : "avgpool2d"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;

  struct CudnnState;

 private:
  void forward_cuda(const Tensor& x, Tensor& y, Context& ctx);
  void backward_cuda(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                     Context& ctx);

  PoolMode mode_;
  int64_t kernel_, stride_, padding_;
  Shape in_shape_, out_shape_;
  // shared_ptr, not unique_ptr: its deleter is bound where CudnnState is complete (the cuDNN
  // source file), so this header stays free of cuDNN types. Never actually shared.
  std::shared_ptr<CudnnState> cudnn_;
};

inline std::unique_ptr<Pool2d> MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0) {
  return std::make_unique<Pool2d>(PoolMode::Max, kernel, stride, padding);
}
inline std::unique_ptr<Pool2d> AvgPool2d(int64_t kernel, int64_t stride, int64_t padding = 0) {
  return std::make_unique<Pool2d>(PoolMode::Average, kernel, stride, padding);
}

}  // namespace cutrain
