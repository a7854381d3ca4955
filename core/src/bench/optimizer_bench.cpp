#include "cutrain/bench/optimizer_bench.h"

#include <algorithm>
#include <chrono>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/rng.h"

namespace cutrain {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Tensor random_tensor(const Shape& shape, Device device, uint64_t seed) {
  std::vector<float> host(static_cast<size_t>(numel_of(shape)));
  Rng rng(seed);
  for (float& x : host) x = rng.uniform(-1.0f, 1.0f);
  return Tensor::from_vector(host, shape, device);
}

// Times `body` once per sample: CUDA events on the device, a steady clock on the CPU.
template <typename F>
std::vector<double> time_us(Context& ctx, int warmup, int iterations, F&& body) {
  for (int i = 0; i < warmup; ++i) body();
  ctx.synchronize();
  std::vector<double> samples;
  if (ctx.is_cuda()) {
    Event start, stop;
    for (int i = 0; i < iterations; ++i) {
      start.record(ctx.stream());
      body();
      stop.record(ctx.stream());
      stop.synchronize();
      samples.push_back(1000.0 * stop.elapsed_ms_since(start));
    }
  } else {
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      body();
      samples.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
              .count());
    }
  }
  return samples;
}

}  // namespace

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
  const auto copy_floats = static_cast<int64_t>(bytes / 2 / sizeof(float));
  Tensor src = Tensor::zeros(Shape{copy_floats}, c.device), dst(Shape{copy_floats}, c.device);
  const std::vector<double> copy =
      time_us(ctx, c.warmup, c.iterations, [&] { dst.copy_from(src, ctx.stream()); });
  r.copy_gbps = 2.0 * static_cast<double>(copy_floats) * sizeof(float) / (median(copy) * 1e3);
  return r;
}

}  // namespace cutrain
