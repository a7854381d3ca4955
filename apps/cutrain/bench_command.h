// `cutrain bench optimizer`: time one fused optimizer step (library: cutrain/bench/).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace cutrain::app {

struct BenchOptimizerConfig {
  std::string optimizer = "adam";
  int64_t params = 100'000'000;
  int64_t tensors = 1;
  bool lenet = false;
  std::string device = "auto";
  int iterations = 200;
  int warmup = 20;
  double clip_norm = 0.0;
};

CLI::App* add_bench_command(CLI::App& app, BenchOptimizerConfig& config);
int run_bench_optimizer(const BenchOptimizerConfig& config);

}  // namespace cutrain::app
