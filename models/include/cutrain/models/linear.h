// Linear (dense) layer: y = x W^T + b, x [N, in], W [out, in], b [out], y [N, out].
// CUDA: cuBLAS; CPU: OpenBLAS. Xavier-uniform weights, zero bias.
#pragma once

#include <memory>

#include "cutrain/models/layer.h"

namespace cutrain {

class Linear final : public Layer {
 public:
  Linear(int64_t in_features, int64_t out_features);
  ~Linear() override;
  std::string kind() const override { return "linear"; }
  Shape build(const Shape& input_shape, Device device, Rng& rng) override;
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;
  std::vector<Parameter> parameters() override;

 private:
  int64_t in_, out_;
  Tensor weight_, bias_, dweight_, dbias_;
  Tensor ones_;  // [max_batch] of 1: bias broadcast and bias gradient as GEMMs on cuBLAS
};

}  // namespace cutrain
