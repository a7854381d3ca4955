// Element-wise activation layers (kernels/activation_math.h holds the math).
#pragma once

#include "cutrain/models/activation_kind.h"
#include "cutrain/models/layer.h"

namespace cutrain {

class ActivationLayer final : public Layer {
 public:
  explicit ActivationLayer(ActivationKind kind) : kind_(kind) {}
  std::string kind() const override { return activation_name(kind_); }
  ActivationKind activation() const { return kind_; }
  Shape build(const Shape& input_shape, Device, Rng&) override { return input_shape; }
  void forward(const Tensor& x, Tensor& y, Context& ctx) override;
  void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                Context& ctx) override;

 private:
  ActivationKind kind_;
};

/// Flatten [N, d1, d2, ...] to [N, d1*d2*...]: a reshape, no data moves.
class Flatten final : public Layer {
 public:
  std::string kind() const override { return "flatten"; }
  Shape build(const Shape& input_shape, Device, Rng&) override;
  void forward(const Tensor&, Tensor&, Context&) override {}
  void backward(const Tensor&, const Tensor&, const Tensor&, Tensor*, Context&) override {}
  bool is_reshape() const override { return true; }
};

}  // namespace cutrain
