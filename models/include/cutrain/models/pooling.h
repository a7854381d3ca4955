// 2-D max and average pooling, NCHW, window k, stride s, no padding:
//   max: y = max over the window; dx gets dy at the first maximum of each window
//   avg: y = mean over the window; dx gets dy / k^2 at every position of it
// CUDA: cuDNN (deterministic max). CPU: loops over (n, c) planes with OpenMP.
#pragma once

#include <memory>

#include "cutrain/models/layer.h"

namespace cutrain {

enum class PoolMode { Max, Average };

class Pool2d final : public Layer {
 public:
  Pool2d(PoolMode mode, int64_t kernel, int64_t stride);
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
  int64_t kernel_, stride_;
  Shape in_shape_, out_shape_;
  // shared_ptr, not unique_ptr: its deleter is bound where CudnnState is complete (the cuDNN
  // source file), so this header stays free of cuDNN types. Never actually shared.
  std::shared_ptr<CudnnState> cudnn_;
};

inline std::unique_ptr<Pool2d> MaxPool2d(int64_t kernel, int64_t stride) {
  return std::make_unique<Pool2d>(PoolMode::Max, kernel, stride);
}
inline std::unique_ptr<Pool2d> AvgPool2d(int64_t kernel, int64_t stride) {
  return std::make_unique<Pool2d>(PoolMode::Average, kernel, stride);
}

}  // namespace cutrain
