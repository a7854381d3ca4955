// Layer: the unit of a network. A layer is built once for an input shape whose first dimension
// is the largest batch it will see; forward/backward then take batches of any size up to that.
#pragma once

#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/models/activation_kind.h"
#include "cutrain/parameter.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"

namespace cutrain {

class Layer {
 public:
  virtual ~Layer() = default;
  /// Short type name ("conv2d", "linear", ...), used in messages and profiles.
  virtual std::string kind() const = 0;
  /// Checks the input shape [max_batch, ...], allocates parameters on `device`, initialises
  /// them from `rng`, and returns the output shape. Called once.
  virtual Shape build(const Shape& input_shape, Device device, Rng& rng) = 0;
  /// y = f(x). x and y hold the same batch size n <= the built batch.
  virtual void forward(const Tensor& x, Tensor& y, Context& ctx) = 0;
  /// Given dy = dL/dy, writes dL/dx into *dx (skipped when dx is null, e.g. for the first
  /// layer) and overwrites the parameter gradients with dL/dparam for this batch.
  virtual void backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                        Context& ctx) = 0;
  /// Learnable parameters, named relative to the layer ("weight", "bias").
  virtual std::vector<Parameter> parameters() { return {}; }
  /// State that is not learned but must be saved (BatchNorm's running statistics), named
  /// relative to the layer ("running_mean").
  virtual std::vector<NamedTensor> buffers() { return {}; }
  /// True when the output is the input with a new shape (no data movement: Flatten).
  virtual bool is_reshape() const { return false; }
  /// Offered once by Sequential, after build, when an activation layer follows this one. A
  /// layer that accepts (returns true) applies `kind` to its own output from then on, and its
  /// backward takes y and dy of the activated output; Sequential then skips the activation
  /// layer (one pass over memory and, on CUDA, launches saved). Default: declines.
  virtual bool absorb_activation(ActivationKind kind) {
    (void)kind;
    return false;
  }
  virtual void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }
  /// Batch norm's running statistics (this layer's and those of the layers it contains): on,
  /// every training-mode forward from now on makes them the plain average of the batch
  /// statistics seen since the call (PyTorch's momentum=None), so that a pass over the training
  /// set with fixed weights gives the population statistics of those weights ("precise BN");
  /// off, the layer's momentum again. Default: nothing to do.
  virtual void set_cumulative_statistics(bool on) { (void)on; }

 protected:
  bool training_ = true;
};

}  // namespace cutrain
