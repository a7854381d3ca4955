#include "cutrain/lab/trace.h"

#include <cmath>
#include <cstdio>
#include <memory>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/rng.h"
#include "cutrain/schedule/scheduler.h"
#include "cutrain/tensor.h"
#include "lab/single_thread.h"

namespace cutrain::lab {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Solves H d = g for the 1x1 or 2x2 Hessian (Cramer's rule); a singular H gives inf/nan, which
// the trajectory then shows.
Point newton_direction(const std::vector<double>& h, const Point& g) {
  if (g.size() == 1) return {g[0] / h[0]};
  const double det = h[0] * h[3] - h[1] * h[2];
  return {(h[3] * g[0] - h[1] * g[1]) / det, (h[0] * g[1] - h[2] * g[0]) / det};
}

}  // namespace

std::vector<std::string> trace_optimizer_names() {
  std::vector<std::string> names = optimizer_names();
  names.emplace_back(kNewton);
  return names;
}

std::string describe_optimizer(const std::string& name, const OptimizerOptions& o) {
  std::string s = name;
  if (o.lr) s += (name == kNewton ? " eta " : " lr ") + num(*o.lr);
  if (name == "momentum" || name == "nesterov") s += " beta " + num(o.momentum);
  if (name == "rmsprop") s += " gamma " + num(o.gamma);
  if (name == "adadelta") s += " rho " + num(o.rho);
  if (name == "adam" || name == "adamw" || name == "yogi")
    s += " beta1 " + num(o.beta1) + " beta2 " + num(o.beta2);
  if (o.eps) s += " eps " + num(*o.eps);
  if (o.weight_decay > 0.0) s += " weight_decay " + num(o.weight_decay);
  if (o.clip_norm > 0.0) s += " clip_norm " + num(o.clip_norm);
  return s;
}

Trace run_trace(const Objective& f, const TraceOptions& o,
                const std::function<void(const TraceStep&)>& on_step) {
  const Point start = o.start.empty() ? f.start : o.start;
  if (static_cast<int>(start.size()) != f.dims)
    throw ConfigError("--start: " + f.name + " takes " + std::to_string(f.dims) +
                      " coordinate(s), got " + std::to_string(start.size()));
  if (!(o.noise >= 0.0) || !std::isfinite(o.noise))
    throw ConfigError("--noise: expected a standard deviation >= 0, got " + num(o.noise));
  if (o.steps < 0) throw ConfigError("--steps: expected a count >= 0");

  const bool newton = o.optimizer == kNewton;
  OptimizerOptions optim = o.optim;
  if (newton && !optim.lr) optim.lr = 1.0;
  if (newton && (!std::isfinite(*optim.lr) || *optim.lr < 0.0))
    throw ConfigError("--lr: expected a finite eta >= 0, got " + num(*optim.lr));

  const detail::SingleThreadScope single_thread;
  Context ctx(Device::CPU);
  const auto n = static_cast<int64_t>(f.dims);
  Tensor x = Tensor::from_vector(std::vector<float>(start.begin(), start.end()), {n}, Device::CPU);
  Tensor grad = Tensor::zeros({n}, Device::CPU);
  std::unique_ptr<Optimizer> opt;
  if (!newton) {
    std::vector<ParamGroup> groups(1);
    groups[0].params = {{"x", &x, &grad}};
    opt = make_optimizer(o.optimizer, std::move(groups), optim, ctx);
    optim.lr = opt->lr();
  }
  const double base_lr = *optim.lr;
  std::unique_ptr<Scheduler> schedule;
  if (!o.lr_schedule.empty()) schedule = make_scheduler(o.lr_schedule, base_lr);

  Trace trace;
  trace.engine_optimizer = !newton;
  trace.description = describe_optimizer(o.optimizer, optim);
  if (schedule) trace.description += ", schedule " + schedule->describe();
  trace.description += newton ? " (Newton's method x -= eta * f'(x)/f''(x), computed in the lab: "
                                "not an engine optimizer)"
                              : " (engine optimizer)";

  // The point as the optimizer left it (float storage), evaluated in double.
  auto current = [&x]() {
    const std::vector<float> v = x.to_vector();
    return Point(v.begin(), v.end());
  };
  auto record = [&](int64_t step, double lr) {
    TraceStep s;
    s.step = step;
    s.x = current();
    s.f = f.value(s.x);
    s.lr = lr;
    if (on_step) on_step(s);
    trace.steps.push_back(std::move(s));
  };
  record(0, 0.0);
  Rng rng(o.seed);
  for (int64_t t = 0; t < o.steps; ++t) {
    const Point now = current();
    Point g = f.gradient(now);
    if (o.noise > 0.0)
      for (double& gi : g) gi += o.noise * static_cast<double>(rng.normal());
    const double lr = schedule ? schedule->lr(t) : base_lr;
    if (newton) {
      const Point d = newton_direction(f.hessian(now), g);
      std::vector<float> next(now.size());
      for (size_t i = 0; i < now.size(); ++i) next[i] = static_cast<float>(now[i] - lr * d[i]);
      x.copy_from_host(next.data(), n);
    } else {
      const std::vector<float> gf(g.begin(), g.end());
      grad.copy_from_host(gf.data(), n);
      opt->set_lr(lr);
      opt->step(ctx);
    }
    record(t + 1, lr);
  }
  return trace;
}

}  // namespace cutrain::lab
