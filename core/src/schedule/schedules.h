// Concrete schedulers: pure functions of t, the warm-up wrapper, and reduce-on-plateau.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cutrain/schedule/scheduler.h"

namespace cutrain::detail {

/// A schedule that is a pure function of t.
class FunctionSchedule final : public Scheduler {
 public:
  FunctionSchedule(std::string description, std::function<double(int64_t)> f)
      : description_(std::move(description)), f_(std::move(f)) {}
  double lr(int64_t t) const override { return f_(t); }
  std::string describe() const override { return description_; }

 private:
  std::string description_;
  std::function<double(int64_t)> f_;
};

/// Linear warm-up from begin_lr to base_lr over `steps` updates, then inner(t - steps).
class WarmUp final : public Scheduler {
 public:
  WarmUp(std::unique_ptr<Scheduler> inner, int64_t steps, double begin_lr, double base_lr);
  double lr(int64_t t) const override;
  std::string describe() const override;
  void observe(double metric) override { inner_->observe(metric); }
  SchedulerState state() const override { return inner_->state(); }
  void load_state(const SchedulerState& s) override { inner_->load_state(s); }

 private:
  std::unique_ptr<Scheduler> inner_;
  int64_t steps_;
  double begin_lr_, base_lr_;
};

/// Multiplies the rate by `factor` when the observed metric has not improved by a relative
/// `threshold` for more than `patience` epochs; never below min_lr.
class ReduceOnPlateau final : public Scheduler {
 public:
  ReduceOnPlateau(double base_lr, double factor, int64_t patience, double threshold,
                  double min_lr);
  double lr(int64_t) const override { return current_; }
  std::string describe() const override;
  void observe(double metric) override;
  SchedulerState state() const override;
  void load_state(const SchedulerState& s) override;

 private:
  double factor_, threshold_, min_lr_;
  int64_t patience_;
  double current_, best_;
  int64_t bad_epochs_ = 0;
};

}  // namespace cutrain::detail
