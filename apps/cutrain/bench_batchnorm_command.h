// `cutrain bench batchnorm`: time the batch-norm kernels against cuDNN's batch norm (library:
// cutrain/bench/batchnorm_bench.h).
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <cstdint>
#include <string>

namespace cutrain::app {

struct BenchBatchnormConfig {
  std::string shape = "256,64,56,56";  ///< N,C,H,W; parsed by run_bench_batchnorm
  std::string device = "auto";
  int iterations = 100;
  int warmup = 10;
  bool relu = false;
  std::string schedule = "auto";
};

/// Adds `batchnorm` to `bench` (the `cutrain bench` command).
CLI::App* add_bench_batchnorm_command(CLI::App& bench, BenchBatchnormConfig& config);

/// "N,C,H,W": four positive decimal integers. Throws ConfigError naming --shape otherwise.
std::array<int64_t, 4> parse_bn_shape(const std::string& text);

int run_bench_batchnorm(const BenchBatchnormConfig& config);

}  // namespace cutrain::app
