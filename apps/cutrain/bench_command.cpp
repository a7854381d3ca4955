#include "bench_command.h"

#include <cstdio>

#include "cutrain/bench/optimizer_bench.h"
#include "cutrain/models/registry.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain::app {

CLI::App* add_bench_command(CLI::App& app, BenchOptimizerConfig& c) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (timings, not tests)");
  bench->require_subcommand(1);
  CLI::App* opt = bench->add_subcommand("optimizer", "Time one fused optimizer step");
  opt->add_option("--optimizer", c.optimizer, "Optimizer")
      ->check(CLI::IsMember(optimizer_names()))
      ->capture_default_str();
  opt->add_option("--params", c.params, "Total parameters")
      ->check(CLI::Range(int64_t{1}, int64_t{4'000'000'000}))
      ->capture_default_str();
  opt->add_option("--tensors", c.tensors, "Split the parameters into this many tensors")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}))
      ->capture_default_str();
  opt->add_flag("--lenet", c.lenet, "Use LeNet's ten parameter tensors (61,706 parameters)");
  opt->add_option("--device", c.device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  opt->add_option("--iterations", c.iterations, "Timed steps")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  opt->add_option("--warmup", c.warmup, "Untimed steps first")
      ->check(CLI::Range(0, 1'000'000))
      ->capture_default_str();
  opt->add_option("--clip-norm", c.clip_norm, "Also clip by global norm (adds two launches)")
      ->check(CLI::NonNegativeNumber);
  return opt;
}

int run_bench_optimizer(const BenchOptimizerConfig& c) {
  OptimizerBenchConfig config;
  config.optimizer = c.optimizer;
  config.device = choose_device(c.device).device;
  config.iterations = c.iterations;
  config.warmup = c.warmup;
  config.clip_norm = c.clip_norm;
  if (c.lenet) {
    Sequential net = make_model("lenet");
    net.build({1, 28, 28}, 1, Device::CPU, 0);
    for (const Parameter& p : net.parameters()) config.shapes.push_back(p.value->shape());
  } else {
    const int64_t per = c.params / c.tensors;
    for (int64_t i = 0; i < c.tensors; ++i)
      config.shapes.push_back({i + 1 < c.tensors ? per : c.params - per * (c.tensors - 1)});
  }
  const OptimizerBenchResult r = bench_optimizer(config);
  std::printf(
      "optimizer %s  device %s  params %lld in %lld tensors  %.0f B/param\n"
      "step: median %.2f us (min %.2f) over %d steps; %d kernel launch(es) per step on CUDA\n"
      "effective bandwidth %.1f GB/s; device copy of the same bytes %.1f GB/s (ratio %.2f)\n",
      c.optimizer.c_str(), device_name(config.device), static_cast<long long>(r.params),
      static_cast<long long>(r.tensors), r.bytes_per_param, r.median_us, r.min_us, c.iterations,
      r.launches_per_step, r.gbps, r.copy_gbps, r.gbps / r.copy_gbps);
  return 0;
}

}  // namespace cutrain::app
