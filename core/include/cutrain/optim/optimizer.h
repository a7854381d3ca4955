// Optimizers: pluggable objects that update a fixed set of parameters from their gradients with
// one fused multi-tensor launch per step.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/parameter.h"

namespace cutrain {

/// @brief Base of every optimizer. The parameter set is fixed at construction (static shapes);
/// `step` reads the current gradients and updates the values in place on ctx's stream.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  /// Learning rate used by the next step (the scheduler sets it before each step).
  virtual void set_lr(double lr) = 0;
  virtual double lr() const = 0;
  virtual void step(Context& ctx) = 0;
  /// Number of completed steps.
  virtual int64_t steps() const = 0;
};

struct SgdOptions {
  double lr = 0.1;
};

/// @brief Names accepted by make_optimizer.
std::vector<std::string> optimizer_names();
/// @brief Builds an optimizer by name ("sgd"); throws ConfigError for unknown names or bad values.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Parameter> params,
                                          double lr, Context& ctx);

}  // namespace cutrain
