#include "cutrain/bench/optimizer_bench.h"

#include <algorithm>
#include <cstdio>
#include <string>

#if CUTRAIN_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "bench/bench_timing.h"
#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"
#include "cutrain/optim/optimizer.h"
#include "optim/fused_optimizer.h"

namespace cutrain {

using detail::median;
using detail::random_tensor;
using detail::time_us;

namespace {
std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1 << 30));
  return buf;
}

// Refuses a run that cannot fit before anything is allocated: on the CPU each allocation would
// succeed (Linux overcommits) and filling the values would take minutes before the optimizer's
// state ran out of memory. Counts what the run holds at once: values, gradients and state, then
// the copy benchmark's two buffers.
void require_memory(const std::string& optimizer, double params, Device device) {
  const double need = params * (4.0 * (2 + kernels::state_tensors(optimizer_rule(optimizer))) +
                                optimizer_bytes_per_param(optimizer));
  double have = 0;
  std::string where;
  if (device == Device::CPU) {
    have = std::max(0.0, static_cast<double>(host_memory_limit()) -
                             static_cast<double>(tensor_memory(Device::CPU).current_bytes));
    where = "the CPU tensors may use";
  } else {
#if CUTRAIN_WITH_CUDA
    size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      cudaGetLastError();
      return;  // the first allocation reports the device's error
    }
    have = static_cast<double>(free);
    where = "the GPU has free";
#else
    return;
#endif
  }
  if (need > have) {
    char count[32];
    std::snprintf(count, sizeof count, "%.0f", params);
    throw ConfigError("bench optimizer: " + std::string(count) + " parameters need " + gib(need) +
                      " (values, gradients, " + optimizer +
                      " state and the copy buffers), more than the " + gib(have) + " " + where +
                      "; lower --params");
  }
}
}  // namespace

double optimizer_bytes_per_param(const std::string& optimizer) {
  const int state = kernels::state_tensors(optimizer_rule(optimizer));
  return 4.0 * (2 + state) + 4.0 * (1 + state);
}

OptimizerBenchResult bench_optimizer(const OptimizerBenchConfig& c) {
  if (c.shapes.empty()) throw ConfigError("bench optimizer: no parameter tensors");
  if (c.iterations < 1 || c.warmup < 0)
    throw ConfigError("bench optimizer: --iterations must be >= 1 and --warmup >= 0");
  Context ctx(c.device);
  double total = 0;  // in double: shapes near 2^61 elements each would overflow an int64 sum
  for (const Shape& s : c.shapes) total += static_cast<double>(numel_of(s));
  require_memory(c.optimizer, total, c.device);
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
