// Optimizers: pluggable objects that update a fixed set of parameters from their gradients
// with one fused multi-tensor launch per step (plus two small ones when clipping by norm).
// Rules and defaults: shared/reference/optimizers.md (summarised in kernels/optimizer_math.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/parameter.h"

namespace cutrain {

/// @brief Hyperparameters of every optimizer family; each uses the fields it names.
struct OptimizerOptions {
  std::optional<double> lr;    ///< eta; unset: 0.1, and 1 for adadelta (a multiplier of its step)
  double momentum = 0.9;       ///< momentum, nesterov
  double beta1 = 0.9;          ///< adam, adamw, yogi
  double beta2 = 0.999;        ///< adam, adamw, yogi
  double gamma = 0.9;          ///< rmsprop
  double rho = 0.9;            ///< adadelta
  std::optional<double> eps;   ///< default per rule: 1e-6 (adagrad, rmsprop, adam, adamw),
                               ///< 1e-5 (adadelta), 1e-3 (yogi)
  double weight_decay = 0.0;   ///< L2 folded into g (decoupled for adamw)
  double clip_norm = 0.0;      ///< clip gradients to this global L2 norm; 0 = off
};

/// @brief Parameters that share a learning-rate multiplier and a weight decay.
struct ParamGroup {
  std::vector<Parameter> params;
  double lr_scale = 1.0;
  std::optional<double> weight_decay;  ///< unset: OptimizerOptions::weight_decay
};

/// @brief Splits parameters into weights (rank >= 2: decayed) and biases / normalisation
/// parameters (rank 1: weight decay 0), the usual grouping.
std::vector<ParamGroup> decay_groups(const std::vector<Parameter>& params);

/// @brief An optimizer's state on the host, for checkpoints.
struct OptimizerState {
  int64_t steps = 0;
  std::vector<std::pair<std::string, std::vector<float>>> tensors;  ///< "<param>.<slot>"
};

/// @brief Base of every optimizer. The parameter set is fixed at construction (static shapes);
/// `step` reads the current gradients and updates the values in place on ctx's stream; it is
/// split in a host half and a capturable device half for CUDA graphs.
class Optimizer {
 public:
  Optimizer();
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual std::string name() const = 0;
  /// Learning rate used by the next step (the scheduler sets it before each step).
  virtual void set_lr(double lr) = 0;
  virtual double lr() const = 0;
  /// One update: prepare_step, then enqueue_step.
  void step(Context& ctx) {
    prepare_step(ctx);
    enqueue_step(ctx);
  }
  /// Host half of an update, never captured in a CUDA graph: counts the step and, on CUDA,
  /// uploads the learning rate when it changed since the last upload.
  virtual void prepare_step(Context& ctx) = 0;
  /// Device half: queues the update on ctx's stream (no host synchronisation, no allocation).
  /// The lr, the step number t and the clip factor are read from device memory and t is
  /// advanced there, so a CUDA graph that captured this call replays correct updates.
  virtual void enqueue_step(Context& ctx) = 0;
  /// Number of completed steps.
  virtual int64_t steps() const = 0;
  /// Global gradient norm measured by the last step (clip_norm > 0 only; synchronises).
  virtual double last_grad_norm(Context& ctx) const = 0;
  virtual OptimizerState save_state(Context& ctx) const = 0;
  /// Throws DataError when names or sizes differ from this optimizer's state.
  virtual void load_state(const OptimizerState& state, Context& ctx) = 0;
  /// A number (> 0) no other optimizer of this process has had: tells a new optimizer from a
  /// destroyed one at the same address (a captured training step bakes in its buffers).
  uint64_t serial() const { return serial_; }

 private:
  uint64_t serial_;
};

/// @brief Names accepted by make_optimizer, in the order of the book.
std::vector<std::string> optimizer_names();
/// @brief Builds an optimizer by name over parameter groups; throws ConfigError naming the
/// flag for unknown names and out-of-range values (negative lr, beta outside [0, 1), ...).
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const OptimizerOptions& options, Context& ctx);
/// @brief Throws what make_optimizer throws for this name and these options, without
/// parameters or a device: a program can reject its flags before loading data.
void validate_optimizer(const std::string& name, const OptimizerOptions& options);
/// @brief One group, default options except the learning rate.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Parameter> params,
                                          double lr, Context& ctx);

}  // namespace cutrain
