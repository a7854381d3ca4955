// `cutrain train`: flags -> TrainConfig -> the library's Trainer. No training logic here.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "cutrain/optim/optimizer.h"

namespace cutrain::app {

struct TrainConfig {
  std::string model = "lenet";
  std::string optimizer = "sgd";
  double lr = 0.3;
  OptimizerOptions optim;  // lr is copied in from `lr`
  double eps = std::nan("");  // NaN: the optimizer's default
  bool decay_biases = false;
  int64_t batch_size = 256;
  int64_t epochs = 10;
  std::string device = "auto";
  std::string data_dir;  // empty: $CUTRAIN_DATA or the Debian package's directory
  uint64_t seed = 0;
  std::string metrics_path;
  int64_t train_limit = 0;
  std::string scheduler;  // empty: constant lr
  std::string schedule_unit = "epoch";
};

/// Declares the subcommand and its flags on `app`; values land in `config`.
CLI::App* add_train_command(CLI::App& app, TrainConfig& config);
/// Runs a parsed configuration; returns the process exit code.
int run_train(const TrainConfig& config);

}  // namespace cutrain::app
