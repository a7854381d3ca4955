#include "cutrain/bench/optimizer_bench.h"

#include <algorithm>

#include "bench/bench_timing.h"
#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain {

using detail::median;
using detail::random_tensor;
using detail::time_us;

double optimizer_bytes_per_param(const std::string& optimizer) {
  int state = 2;
  if (optimizer == "sgd") state = 0;
  if (optimizer == "momentum" || optimizer == "nesterov" || optimizer == "adagrad" ||
      optimizer == "rmsprop")
    state = 1;
  return 4.0 * (2 + state) + 4.0 * (1 + state);
}

OptimizerBenchResult bench_optimizer(const OptimizerBenchConfig& c) {
  if (c.shapes.empty()) throw ConfigError("bench optimizer: no parameter tensors");
  if (c.iterations < 1 || c.warmup < 0)
    throw ConfigError("bench optimizer: --iterations must be >= 1 and --warmup >= 0");
  Context ctx(c.device);
  std::vector<Tensor> values, grads;
  std::vector<Parameter> params;
  OptimizerBenchResult r;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    values.push_back(random_tensor(c.shapes[i], c.device, 2 * i + 1));
    grads.push_back(random_tensor(c.shapes[i], c.device, 2 * i + 2));
    r.params += values.back().numel();
  }
  for (size_t i = 0; i < values.size(); ++i)
    params.push_back({"p" + std::to_string(i), &values[i], &grads[i]});
  OptimizerOptions options;
  options.lr = 1e-6;  // keeps thousands of steps finite for every rule
  options.clip_norm = c.clip_norm;
  std::vector<ParamGroup> groups(1);
  groups[0].params = params;
  auto opt = make_optimizer(c.optimizer, std::move(groups), options, ctx);

  r.tensors = static_cast<int64_t>(c.shapes.size());
  r.bytes_per_param = optimizer_bytes_per_param(c.optimizer);
  r.launches_per_step = 2 + (c.clip_norm > 0 ? 2 : 0);  // begin_step + update (+ clip)
  const std::vector<double> step =
      time_us(ctx, c.warmup, c.iterations, [&] { opt->step(ctx); });
  r.median_us = median(step);
  r.min_us = *std::min_element(step.begin(), step.end());
  const double bytes = r.bytes_per_param * static_cast<double>(r.params);
  r.gbps = bytes / (r.median_us * 1e3);

  // A copy moves each byte twice (read + write): copy half the optimizer's traffic.
  r.copy_gbps = detail::copy_gbps(ctx, static_cast<int64_t>(bytes / 2 / sizeof(float)), c.warmup,
                                  c.iterations);
  return r;
}

}  // namespace cutrain
