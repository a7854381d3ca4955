// `cutrain train`: flags -> TrainConfig -> the library's Trainer. No training logic here.
#pragma once

#include <CLI/CLI.hpp>

#include "train_config.h"

namespace cutrain::app {

/// Declares the subcommand and its flags on `app`; values land in `config`.
CLI::App* add_train_command(CLI::App& app, TrainConfig& config);
/// Runs a parsed configuration; returns the process exit code.
int run_train(const TrainConfig& config);

}  // namespace cutrain::app
