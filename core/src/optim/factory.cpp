// Optimizer names -> rules, per-rule defaults, and validation of every hyperparameter with the
// command-line flag that sets it.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <utility>

#include "cutrain/error.h"
#include "optim/fused_optimizer.h"

namespace cutrain {

Optimizer::Optimizer() {
  static std::atomic<uint64_t> next{1};
  serial_ = next.fetch_add(1);
}
namespace {

using kernels::OptimizerRule;

struct Entry {
  const char* name;
  OptimizerRule rule;
  double default_eps;
  double default_lr;
};

// The book's order (d2l, optimization chapter).
constexpr Entry kOptimizers[] = {
    {"sgd", OptimizerRule::Sgd, 0.0, 0.1},
    {"momentum", OptimizerRule::Momentum, 0.0, 0.1},
    {"nesterov", OptimizerRule::Nesterov, 0.0, 0.1},
    {"adagrad", OptimizerRule::Adagrad, 1e-6, 0.1},
    {"rmsprop", OptimizerRule::RmsProp, 1e-6, 0.1},
    {"adadelta", OptimizerRule::Adadelta, 1e-5, 1.0},  // no learning rate of its own
    {"adam", OptimizerRule::Adam, 1e-6, 0.1},
    {"adamw", OptimizerRule::AdamW, 1e-6, 0.1},
    {"yogi", OptimizerRule::Yogi, 1e-3, 0.1},
};

void require(bool ok, const std::string& flag, const std::string& expected, double value) {
  if (ok) return;
  char got[32];
  std::snprintf(got, sizeof got, "%.9g", value);  // 1.5, not std::to_string's 1.500000
  throw ConfigError(flag + ": expected " + expected + ", got " + got);
}

void validate(const OptimizerOptions& o) {
  auto unit = [](double v) { return std::isfinite(v) && v >= 0.0 && v < 1.0; };
  require(std::isfinite(*o.lr) && *o.lr >= 0.0, "--lr", "a finite learning rate >= 0", *o.lr);
  require(unit(o.momentum), "--momentum", "a value in [0, 1)", o.momentum);
  require(unit(o.beta1), "--beta1", "a value in [0, 1)", o.beta1);
  require(unit(o.beta2), "--beta2", "a value in [0, 1)", o.beta2);
  require(unit(o.gamma), "--gamma", "a value in [0, 1)", o.gamma);
  require(unit(o.rho), "--rho", "a value in [0, 1)", o.rho);
  if (o.eps) require(std::isfinite(*o.eps) && *o.eps > 0.0, "--eps", "a value > 0", *o.eps);
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, "--weight-decay",
          "a value >= 0", o.weight_decay);
  require(std::isfinite(o.clip_norm) && o.clip_norm >= 0.0, "--clip-norm",
          "a norm >= 0 (0 = no clipping)", o.clip_norm);
}

}  // namespace

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const Entry& e : kOptimizers) names.emplace_back(e.name);
  return names;
}

std::vector<ParamGroup> decay_groups(const std::vector<Parameter>& params) {
  ParamGroup decayed, plain;
  plain.weight_decay = 0.0;
  for (const Parameter& p : params) (p.value->rank() >= 2 ? decayed : plain).params.push_back(p);
  std::vector<ParamGroup> groups;
  if (!decayed.params.empty()) groups.push_back(std::move(decayed));
  if (!plain.params.empty()) groups.push_back(std::move(plain));
  return groups;
}

namespace {

// The entry of `name` and the options completed with its default lr, validated as given (eps,
// unused by sgd, may stay unset).
const Entry& entry(const std::string& name) {
  for (const Entry& e : kOptimizers)
    if (name == e.name) return e;
  std::string known;
  for (const std::string& n : optimizer_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("--optimizer: unknown optimizer '" + name + "' (available: " + known + ")");
}

std::pair<const Entry*, OptimizerOptions> checked(const std::string& name,
                                                  const OptimizerOptions& options) {
  const Entry& e = entry(name);
  OptimizerOptions o = options;
  if (!o.lr) o.lr = e.default_lr;
  validate(o);
  return {&e, o};
}

}  // namespace

kernels::OptimizerRule optimizer_rule(const std::string& name) { return entry(name).rule; }

void validate_optimizer(const std::string& name, const OptimizerOptions& options) {
  checked(name, options);
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const OptimizerOptions& options, Context& ctx) {
  auto [e, o] = checked(name, options);
  if (!o.eps) o.eps = e->default_eps;
  for (const ParamGroup& g : groups) {
    require(std::isfinite(g.lr_scale) && g.lr_scale >= 0.0, "parameter group lr_scale",
            "a value >= 0", g.lr_scale);
    if (g.weight_decay)
      require(std::isfinite(*g.weight_decay) && *g.weight_decay >= 0.0,
              "parameter group weight_decay", "a value >= 0", *g.weight_decay);
  }
  return std::make_unique<FusedOptimizer>(e->name, e->rule, std::move(groups), o, ctx);
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Parameter> params,
                                          double lr, Context& ctx) {
  OptimizerOptions o;
  o.lr = lr;
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return make_optimizer(name, std::move(groups), o, ctx);
}

}  // namespace cutrain
