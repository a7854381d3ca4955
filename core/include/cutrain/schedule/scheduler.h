// Learning-rate schedulers (shared/reference/schedulers.md). The trainer asks lr(t) before each
// update, where t counts updates or epochs from 0 (--schedule-unit). Pure schedules are
// functions of t; reduce-on-plateau also observes a metric once per epoch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cutrain {

/// @brief State a scheduler needs to resume exactly (empty for pure schedules).
using SchedulerState = std::map<std::string, double>;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  /// Learning rate for update (or epoch) t >= 0.
  virtual double lr(int64_t t) const = 0;
  /// Spec-like description, e.g. "cosine(max_update=20, final_lr=0.01)".
  virtual std::string describe() const = 0;
  /// Called once per epoch with the monitored metric (test loss); only reduce-on-plateau reacts.
  virtual void observe(double /*metric*/) {}
  virtual SchedulerState state() const { return {}; }
  virtual void load_state(const SchedulerState& /*state*/) {}
};

/// @brief Parses a spec "name[:key=value,...]" with base learning rate `base_lr`.
///
/// | name | keys (defaults) | rule |
/// |---|---|---|
/// | constant | | eta0 |
/// | sqrt | | eta0 (t+1)^-1/2 |
/// | exponential | k (0.1) | eta0 exp(-k t) |
/// | polynomial | a (0.1), p (0.5) | eta0 (1 + a t)^-p |
/// | poly | max_update (required), p (1) | eta0 (1 - t/T)^p, 0 after T |
/// | factor | alpha (0.9), min_lr (0.01) | max(min_lr, eta0 alpha^t) |
/// | multifactor | milestones (required, "15;30" or "15/30"), alpha (0.5) | eta0 alpha^#(milestones <= t) |
/// | step | step_size (required), gamma (0.1) | eta0 gamma^floor(t / step_size) |
/// | cosine | max_update (required), final_lr (0) | final + (eta0-final)(1+cos(pi t/T))/2, final after T |
/// | onecycle | max_update (required), pct_start (0.3), div_factor (25), final_div_factor (1e4) | cosine up from eta0/div to eta0, then down to eta0/(div*final_div) |
/// | plateau | factor (0.1), patience (10), threshold (1e-4), min_lr (0) | multiply by factor after `patience` epochs without relative improvement |
///
/// Every schedule also takes warmup (0) and warmup_begin_lr (0): linear from warmup_begin_lr to
/// eta0 over the first `warmup` updates, then the schedule over the remaining ones (for cosine,
/// poly and onecycle the warm-up is part of max_update, as in d2l).
/// @throws ConfigError naming the spec, the unknown name or key, or the bad value.
std::unique_ptr<Scheduler> make_scheduler(const std::string& spec, double base_lr);

/// @brief Scheduler names, for help texts.
std::vector<std::string> scheduler_names();

}  // namespace cutrain
