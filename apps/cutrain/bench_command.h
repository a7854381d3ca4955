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

/// `cutrain bench train`: training throughput, median of several epochs after one warm-up epoch
/// (two with CUDA graphs).
struct BenchTrainConfig {
  std::string model = "lenet";
  std::string device = "auto";
  std::string data_dir;
  int64_t batch_size = 256;
  int64_t epochs = 3;  // timed, after the warm-up epochs
  double lr = 0.3;
  bool cuda_graph = false;
  bool data_on_device = false;
  bool unfused = false;  // activation layers run on their own (A/B of absorbed activations)
  bool tf32 = false;
};

struct BenchCommands {
  CLI::App* group;  ///< `cutrain bench` itself: other files add their subcommands to it
  CLI::App* optimizer;
  CLI::App* train;
};

/// --device (auto|cpu|cuda), --iterations and --warmup, shared by the timing commands.
void add_timing_options(CLI::App* cmd, std::string& device, int& iterations, int& warmup,
                        const std::string& unit);

BenchCommands add_bench_command(CLI::App& app, BenchOptimizerConfig& optimizer,
                                BenchTrainConfig& train);
int run_bench_optimizer(const BenchOptimizerConfig& config);
int run_bench_train(const BenchTrainConfig& config);

/// `cutrain time`: per-layer forward/backward milliseconds (like `caffe time`).
struct TimeConfig {
  std::string model = "lenet";
  std::string device = "auto";
  int64_t batch_size = 256;
  int iterations = 50;
  int warmup = 5;
  bool tf32 = false;
};

CLI::App* add_time_command(CLI::App& app, TimeConfig& config);
int run_time(const TimeConfig& config);

}  // namespace cutrain::app
