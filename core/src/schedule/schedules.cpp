#include "schedule/schedules.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "cutrain/error.h"

namespace cutrain::detail {

WarmUp::WarmUp(std::unique_ptr<Scheduler> inner, int64_t steps, double begin_lr, double base_lr)
    : inner_(std::move(inner)), steps_(steps), begin_lr_(begin_lr), base_lr_(base_lr) {}

double WarmUp::lr(int64_t t) const {
  if (t < steps_)
    return begin_lr_ +
           (base_lr_ - begin_lr_) * static_cast<double>(t) / static_cast<double>(steps_);
  return inner_->lr(t - steps_);
}

std::string WarmUp::describe() const {
  std::ostringstream out;
  out << "warmup(" << steps_ << " from " << begin_lr_ << ") then " << inner_->describe();
  return out.str();
}

ReduceOnPlateau::ReduceOnPlateau(double base_lr, double factor, int64_t patience, double threshold,
                                 double min_lr)
    : factor_(factor),
      threshold_(threshold),
      min_lr_(min_lr),
      patience_(patience),
      current_(base_lr),
      best_(std::numeric_limits<double>::infinity()) {}

void ReduceOnPlateau::observe(double metric) {
  if (!std::isfinite(metric)) return;  // a diverged epoch is the trainer's to report
  if (metric < best_ * (1.0 - threshold_) || !std::isfinite(best_)) {
    best_ = metric;
    bad_epochs_ = 0;
    return;
  }
  if (++bad_epochs_ > patience_) {
    current_ = std::max(min_lr_, current_ * factor_);
    bad_epochs_ = 0;
  }
}

std::string ReduceOnPlateau::describe() const {
  std::ostringstream out;
  out << "plateau(factor=" << factor_ << ", patience=" << patience_ << ", threshold=" << threshold_
      << ", min_lr=" << min_lr_ << ")";
  return out.str();
}

SchedulerState ReduceOnPlateau::state() const {
  return {{"current_lr", current_}, {"best", best_}, {"bad_epochs", double(bad_epochs_)}};
}

void ReduceOnPlateau::load_state(const SchedulerState& s) {
  for (const char* key : {"current_lr", "best", "bad_epochs"})
    if (!s.count(key)) throw DataError(std::string("plateau scheduler state: missing ") + key);
  const double lr = s.at("current_lr"), best = s.at("best"), bad = s.at("bad_epochs");
  // Check everything before changing anything. best may be +inf (nothing observed yet).
  if (!std::isfinite(lr) || lr < 0.0)
    throw DataError("plateau scheduler state: current_lr " + std::to_string(lr) +
                    " is not a learning rate (finite, >= 0)");
  if (std::isnan(best)) throw DataError("plateau scheduler state: best is NaN");
  if (!(bad >= 0.0 && bad <= 1e15 && bad == std::floor(bad)))
    throw DataError("plateau scheduler state: bad_epochs " + std::to_string(bad) +
                    " is not a count");
  current_ = lr;
  best_ = best;
  bad_epochs_ = static_cast<int64_t>(bad);
}

}  // namespace cutrain::detail
