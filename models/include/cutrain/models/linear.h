// Linear (dense) layer: y = x W^T + b, x [N, in], W [out, in], b [out], y [N, out].
// CUDA: cuBLAS, with the bias work inside cuBLASLt GEMM epilogues where available; CPU:
// OpenBLAS. Xavier-uniform weights, zero bias.
#pragma once

#include <memory>
#include <optional>

#include "cutrain/models/layer.h"

namespace cutrain {

namespace detail {
class LinearCublas;
}

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
  /// Takes ReLU or sigmoid: y = act(x W^T + b) (on CUDA a ReLU rides in the cuBLASLt
  /// epilogue). Via Sequential only (see Layer).
  bool absorb_activation(ActivationKind kind) override;
  /// CUDA: whether the last forward and backward added the bias and reduced its gradient
  /// inside the GEMMs (cuBLASLt epilogues) rather than in separate cuBLAS calls.
  bool bias_fused() const;

 private:
  int64_t in_, out_;
  Tensor weight_, bias_, dweight_, dbias_;
  std::shared_ptr<detail::LinearCublas> cublas_;  // CUDA only
  Device device_ = Device::CPU;
  int64_t max_batch_ = 0;
  std::optional<ActivationKind> act_;  // absorbed
  Tensor act_grad_;  // [max_batch, out]: dL/d(pre-activation output), with act_
};

}  // namespace cutrain
