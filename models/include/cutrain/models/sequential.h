// Sequential: layers applied in order. Built once for a sample shape and a largest batch: every
// activation and activation gradient is allocated then, and each step only takes views of them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/models/layer.h"

namespace cutrain {

class Sequential {
 public:
  Sequential() = default;
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  Sequential& add(std::unique_ptr<Layer> layer);

  /// Whether build() lets a layer absorb the activation layer after it (Layer::
  /// absorb_activation: conv + bias + ReLU in one pass, and one launch fewer each way on CUDA).
  /// On by default; results are the same either way (bit for bit on the CPU). Before build().
  void set_fuse_activations(bool on);
  /// Whether layer i is an activation absorbed by layer i - 1 (skipped in forward and backward).
  bool absorbed(size_t i) const { return i < absorbed_.size() && absorbed_[i]; }

  /// Builds every layer for input [max_batch, sample_shape...] on `device`; parameters are
  /// initialised from `seed` on the host, so CPU and CUDA models with one seed start equal.
  void build(const Shape& sample_shape, int64_t max_batch, Device device, uint64_t seed);
  bool built() const { return built_; }

  /// Runs all layers on x [n, sample...] (n <= max_batch); returns a view of the output, valid
  /// until the next forward.
  const Tensor& forward(const Tensor& x, Context& ctx);
  /// Storage for dL/d(output) of the last forward's batch; the loss writes into it.
  Tensor& output_grad() { return dout_view_; }
  /// Back-propagates output_grad() and overwrites every parameter gradient.
  void backward(Context& ctx);

  /// All parameters, named like PyTorch's nn.Sequential state_dict ("0.weight", "3.bias").
  std::vector<Parameter> parameters();
  int64_t parameter_count();
  /// Every tensor a checkpoint must hold: parameter values and buffers, with state_dict names.
  std::vector<NamedTensor> state_tensors();
  void set_training(bool training);
  /// Layer::set_cumulative_statistics on every layer.
  void set_cumulative_statistics(bool on);

  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  const Shape& output_shape() const { return shapes_.back(); }
  int64_t max_batch() const { return max_batch_; }
  Device device() const { return device_; }
  /// One line per layer: index, kind, output shape, parameter count (and what absorbed what).
  std::string summary() const;

  /// Called around every layer call: (layer index, backward?, after?). For timing tools; empty
  /// by default (no cost in the step).
  using LayerHook = std::function<void(size_t, bool, bool)>;
  void set_layer_hook(LayerHook hook) { hook_ = std::move(hook); }

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<Shape> shapes_;     // shapes_[i] = input of layer i at max batch; back() = output
  std::vector<Tensor> acts_;      // acts_[i] = input of layer i (acts_[0] unused: the caller's x)
  std::vector<Tensor> grads_;     // grads_[i] = dL/d acts_[i]
  std::vector<Tensor> act_views_, grad_views_;  // the current batch's views of the above
  Tensor out_view_, dout_view_;
  std::vector<std::string> fwd_names_, bwd_names_;  // profiler range names, made at build
  std::vector<bool> absorbed_;    // absorbed_[i]: layer i is absorbed by layer i - 1
  bool fuse_activations_ = true;
  LayerHook hook_;
  int64_t max_batch_ = 0;
  int64_t batch_ = 0;
  Device device_ = Device::CPU;
  bool built_ = false;
};

}  // namespace cutrain
