// `cutrain optim-lab`: the book's optimization experiments (shared/reference/experiments.md)
// through the engine's optimizers. `trace` follows an optimizer on a 1-D or 2-D objective and
// draws its path; `regression` trains linear regression on the airfoil self-noise data and
// draws the loss against epochs and seconds (`--compare`: the book's list of optimizers).
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/optim/optimizer.h"

namespace cutrain::app {

/// Hyperparameter flags shared by both subcommands.
struct LabHyperparameters {
  std::string optimizer = "sgd";
  double lr = std::nan("");   // NaN: the optimizer's default (Newton: eta 1)
  double eps = std::nan("");  // NaN: the optimizer's default
  OptimizerOptions optim;     // momentum, betas, gamma, rho, weight decay
  OptimizerOptions resolved() const;
};

struct OptimLabTraceConfig {
  std::string function;
  LabHyperparameters hyper;
  int64_t steps = 20;
  std::vector<double> start;  // empty: the function's start
  double c = std::nan("");    // NaN: the function's constant
  double noise = 0.0;
  uint64_t seed = 0;
  std::string lr_schedule;
  std::string plot_path;
};

struct OptimLabRegressionConfig {
  std::string data;
  LabHyperparameters hyper;
  int64_t batch_size = 10;
  int64_t epochs = 2;
  int64_t rows = 1500;
  int64_t eval_every = 200;
  uint64_t seed = 0;
  bool compare = false;
  std::vector<double> ylim;  // {lo, hi}; empty: automatic (--compare: the book's 0.22, 0.35)
  std::string plot_path;
};

struct OptimLabCommands {
  CLI::App* trace = nullptr;
  CLI::App* regression = nullptr;
};

OptimLabCommands add_optim_lab_command(CLI::App& app, OptimLabTraceConfig& trace,
                                       OptimLabRegressionConfig& regression);
int run_optim_lab_trace(const OptimLabTraceConfig& config);
int run_optim_lab_regression(const OptimLabRegressionConfig& config);

}  // namespace cutrain::app
