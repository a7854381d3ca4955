// `cutrain eval --checkpoint PATH`: test loss and accuracy of a saved model, and
// `cutrain plot FILE -o curves.svg`: the training curves of a metrics file.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace cutrain::app {

struct EvalConfig {
  std::string checkpoint;
  std::string data_dir;
  std::string device = "auto";
  int64_t batch_size = 1000;
  bool precise_bn = false;  // also evaluate with batch-norm statistics of the training set
  bool per_class = false;   // accuracy per class and the class each is most often taken for
  bool tf32 = false;
};

struct PlotConfig {
  std::string metrics_path;
  std::string output = "curves.svg";
  std::string title;
};

CLI::App* add_eval_command(CLI::App& app, EvalConfig& config);
int run_eval(const EvalConfig& config);

CLI::App* add_plot_command(CLI::App& app, PlotConfig& config);
int run_plot(const PlotConfig& config);

}  // namespace cutrain::app
