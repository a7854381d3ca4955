// `cutrain schedule`: print (and plot) a learning-rate schedule without training.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace cutrain::app {

struct ScheduleConfig {
  std::vector<std::string> specs;  // one curve each
  double lr = 0.3;
  int64_t steps = 30;
  std::string plot_path;
};

CLI::App* add_schedule_command(CLI::App& app, ScheduleConfig& config);
int run_schedule(const ScheduleConfig& config);

/// The --scheduler help text: every name with its keys.
std::string scheduler_help();

}  // namespace cutrain::app
