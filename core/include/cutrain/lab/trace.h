// Optimizer trajectories on the lab's objectives (shared/reference/experiments.md). x lives in
// a 1- or 2-element CPU Tensor with a gradient Tensor, and every step goes through the engine's
// real Optimizer::step (the same update code training uses); only the gradient comes from the
// objective's formula, plus optional N(0, sigma^2) noise per component. Newton's method is the
// one rule computed here, since it is not an engine optimizer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cutrain/lab/objectives.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain::lab {

/// @brief The name of Newton's method in the lab (x -= eta * H^-1 grad).
inline constexpr const char* kNewton = "newton";

/// @brief optimizer_names() followed by "newton".
std::vector<std::string> trace_optimizer_names();

struct TraceOptions {
  std::string optimizer = "sgd";  ///< an engine optimizer name or kNewton
  OptimizerOptions optim;         ///< lr unset: the engine's default; Newton's eta 1
  int64_t steps = 20;
  Point start;         ///< empty: the objective's start
  double noise = 0.0;  ///< sigma of the noise added to every gradient component
  uint64_t seed = 0;   ///< seeds the noise
  /// A make_scheduler spec ("exponential:k=0.1"); empty: constant. Step t (from 0) uses lr(t).
  std::string lr_schedule;
};

/// @brief One point of a trajectory: step 0 is the start.
struct TraceStep {
  int64_t step = 0;
  Point x;
  double f = 0.0;
  double lr = 0.0;  ///< the learning rate of the update that produced x (0 for step 0)
};

struct Trace {
  std::vector<TraceStep> steps;  ///< steps + 1 points
  bool engine_optimizer = true;  ///< false for Newton's method
  std::string description;       ///< the rule and its hyperparameters, for output
};

/// @brief "adam lr 0.01 beta1 0.9 beta2 0.999": the hyperparameters `name` uses.
std::string describe_optimizer(const std::string& name, const OptimizerOptions& o);

/// @brief Runs `o.steps` updates from the start; `on_step` sees each point as it is made.
/// @throws ConfigError for an unknown optimizer, bad hyperparameters, a start of the wrong
/// dimension, a negative noise or a bad schedule.
Trace run_trace(const Objective& f, const TraceOptions& o,
                const std::function<void(const TraceStep&)>& on_step = {});

}  // namespace cutrain::lab
