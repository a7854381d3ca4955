// Scheduler names -> rules (formulas: cutrain/schedule/scheduler.h and
// shared/reference/schedulers.md), with every value checked against the spec it came from.
#include <cmath>
#include <sstream>

#include "cutrain/error.h"
#include "schedule/schedules.h"
#include "schedule/spec.h"

namespace cutrain {
namespace {

using detail::FunctionSchedule;
using detail::SchedulerSpec;
constexpr double kPi = 3.14159265358979323846;
// Counts above this are not update counts anyone means, and would not survive int64 rounding.
constexpr double kMaxCount = 1e15;

std::string fmt(const std::string& name, std::initializer_list<std::pair<const char*, double>> kv) {
  std::ostringstream out;
  out << name << "(";
  bool first = true;
  for (const auto& [k, v] : kv) {
    out << (first ? "" : ", ") << k << "=" << v;
    first = false;
  }
  out << ")";
  return out.str();
}

void check(bool ok, const std::string& spec, const std::string& what) {
  if (!ok) throw ConfigError("--scheduler '" + spec + "': " + what);
}

// Cosine interpolation from a (frac 0) to b (frac 1).
double cosine_between(double a, double b, double frac) {
  return b + (a - b) * (1.0 + std::cos(kPi * frac)) / 2.0;
}

// Builds the schedule of `s` for t counted from the end of the warm-up; `horizon_shift` is the
// warm-up length, which max_update includes.
std::unique_ptr<Scheduler> make_inner(SchedulerSpec& s, const std::string& spec, double eta0,
                                      int64_t warmup) {
  const std::string& n = s.name();
  auto positive_steps = [&](const char* key) {
    const double v = s.number(key, std::nullopt);
    check(v >= 1 && v <= kMaxCount && v == std::floor(v), spec,
          std::string(key) + " must be a whole number in [1, 1e15]");
    return static_cast<int64_t>(v);
  };
  auto horizon = [&](const char* key) {
    const int64_t total = positive_steps(key);
    check(total > warmup, spec, std::string(key) + " must exceed warmup");
    return total - warmup;
  };
  if (n == "constant")
    return std::make_unique<FunctionSchedule>("constant", [eta0](int64_t) { return eta0; });
  if (n == "sqrt")
    return std::make_unique<FunctionSchedule>(
        "sqrt", [eta0](int64_t t) { return eta0 / std::sqrt(static_cast<double>(t) + 1.0); });
  if (n == "exponential") {
    const double k = s.number("k", 0.1);
    check(k >= 0, spec, "k must be >= 0");
    return std::make_unique<FunctionSchedule>(
        fmt("exponential", {{"k", k}}), [=](int64_t t) { return eta0 * std::exp(-k * t); });
  }
  if (n == "polynomial") {
    const double a = s.number("a", 0.1), p = s.number("p", 0.5);
    check(a >= 0 && p >= 0, spec, "a and p must be >= 0");
    return std::make_unique<FunctionSchedule>(
        fmt("polynomial", {{"a", a}, {"p", p}}),
        [=](int64_t t) { return eta0 * std::pow(1.0 + a * t, -p); });
  }
  if (n == "poly") {
    const int64_t T = horizon("max_update");
    const double p = s.number("p", 1.0);
    check(p > 0, spec, "p must be > 0");
    return std::make_unique<FunctionSchedule>(
        fmt("poly", {{"max_update", double(T + warmup)}, {"p", p}}), [=](int64_t t) {
          return t >= T ? 0.0 : eta0 * std::pow(1.0 - double(t) / double(T), p);
        });
  }
  if (n == "factor") {
    const double alpha = s.number("alpha", 0.9), min_lr = s.number("min_lr", 0.01);
    check(alpha > 0 && alpha <= 1, spec, "alpha must be in (0, 1]");
    check(min_lr >= 0, spec, "min_lr must be >= 0");
    return std::make_unique<FunctionSchedule>(
        fmt("factor", {{"alpha", alpha}, {"min_lr", min_lr}}),
        [=](int64_t t) { return std::max(min_lr, eta0 * std::pow(alpha, double(t))); });
  }
  if (n == "multifactor") {
    const std::vector<double> milestones = s.numbers("milestones");
    const double alpha = s.number("alpha", 0.5);
    check(alpha > 0, spec, "alpha must be > 0");
    for (size_t i = 0; i < milestones.size(); ++i)
      check(milestones[i] >= 0 && (i == 0 || milestones[i] > milestones[i - 1]), spec,
            "milestones must be increasing and >= 0");
    return std::make_unique<FunctionSchedule>(
        fmt("multifactor", {{"alpha", alpha}}), [=](int64_t t) {
          double lr = eta0;
          for (double m : milestones)
            if (double(t) >= m) lr *= alpha;
          return lr;
        });
  }
  if (n == "step") {
    const int64_t size = positive_steps("step_size");
    const double gamma = s.number("gamma", 0.1);
    check(gamma > 0, spec, "gamma must be > 0");
    return std::make_unique<FunctionSchedule>(
        fmt("step", {{"step_size", double(size)}, {"gamma", gamma}}),
        [=](int64_t t) { return eta0 * std::pow(gamma, double(t / size)); });
  }
  if (n == "cosine") {
    const int64_t T = horizon("max_update");
    const double final_lr = s.number("final_lr", 0.0);
    check(final_lr >= 0, spec, "final_lr must be >= 0");
    return std::make_unique<FunctionSchedule>(
        fmt("cosine", {{"max_update", double(T + warmup)}, {"final_lr", final_lr}}),
        [=](int64_t t) {
          return t >= T ? final_lr : cosine_between(eta0, final_lr, double(t) / double(T));
        });
  }
  if (n == "onecycle") {
    const int64_t T = horizon("max_update");
    const double pct = s.number("pct_start", 0.3), div = s.number("div_factor", 25.0),
                 final_div = s.number("final_div_factor", 1e4);
    check(pct > 0 && pct < 1, spec, "pct_start must be in (0, 1)");
    check(div >= 1 && final_div >= 1, spec, "div_factor and final_div_factor must be >= 1");
    const double start = eta0 / div, end = start / final_div, up = pct * double(T);
    return std::make_unique<FunctionSchedule>(
        fmt("onecycle", {{"max_update", double(T + warmup)}, {"pct_start", pct}}),
        [=](int64_t t) {
          if (t >= T) return end;
          if (double(t) < up) return cosine_between(start, eta0, double(t) / up);
          return cosine_between(eta0, end, (double(t) - up) / (double(T) - up));
        });
  }
  if (n == "plateau") {
    const double factor = s.number("factor", 0.1), threshold = s.number("threshold", 1e-4),
                 min_lr = s.number("min_lr", 0.0), patience = s.number("patience", 10);
    check(factor > 0 && factor < 1, spec, "factor must be in (0, 1)");
    check(patience >= 0 && patience <= kMaxCount && patience == std::floor(patience), spec,
          "patience must be a whole number in [0, 1e15]");
    check(threshold >= 0 && min_lr >= 0, spec, "threshold and min_lr must be >= 0");
    return std::make_unique<detail::ReduceOnPlateau>(eta0, factor, int64_t(patience), threshold,
                                                     min_lr);
  }
  std::string known;
  for (const std::string& k : scheduler_names()) known += (known.empty() ? "" : ", ") + k;
  throw ConfigError("--scheduler '" + spec + "': unknown scheduler '" + n + "' (available: " +
                    known + ")");
}

}  // namespace

std::vector<std::string> scheduler_names() {
  return {"constant", "sqrt", "exponential", "polynomial", "poly",   "factor",
          "multifactor", "step", "cosine",    "onecycle",   "plateau"};
}

std::unique_ptr<Scheduler> make_scheduler(const std::string& spec, double base_lr) {
  check(std::isfinite(base_lr) && base_lr >= 0, spec, "the base learning rate must be >= 0");
  SchedulerSpec s(spec);
  const double w = s.number("warmup", 0.0);
  check(w >= 0 && w <= kMaxCount && w == std::floor(w), spec,
        "warmup must be a whole number in [0, 1e15]");
  const double begin = s.number("warmup_begin_lr", 0.0);
  check(begin >= 0, spec, "warmup_begin_lr must be >= 0");
  const auto warmup = static_cast<int64_t>(w);
  std::unique_ptr<Scheduler> inner = make_inner(s, spec, base_lr, warmup);
  s.reject_unknown_keys();
  if (warmup == 0) return inner;
  return std::make_unique<detail::WarmUp>(std::move(inner), warmup, begin, base_lr);
}

}  // namespace cutrain
