// cutrain: the command-line front end. Exit codes: 0 success, 1 runtime failure (bad data,
// device error), 2 usage error (unknown flag, bad value).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "bench_batchnorm_command.h"
#include "bench_command.h"
#include "cutrain/build_info.h"
#include "cutrain/error.h"
#include "eval_command.h"
#include "info_command.h"
#include "optim_lab_command.h"
#include "schedule_command.h"
#include "train_command.h"

namespace {

// Long names of the options given on the command line (for resume's consistency check).
std::set<std::string> given_options(const CLI::App& cmd) {
  std::set<std::string> names;
  for (const CLI::Option* opt : cmd.get_options())
    if (opt->count() > 0)
      for (const std::string& n : opt->get_lnames()) names.insert(n);
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cutrain::app;
  CLI::App app{"cutrain: a CUDA training engine (LeNet on Fashion-MNIST, CPU and CUDA)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "cutrain " + cutrain::build_info().version);
  TrainConfig train;
  CLI::App* train_cmd = add_train_command(app, train);
  EvalConfig eval;
  CLI::App* eval_cmd = add_eval_command(app, eval);
  ScheduleConfig schedule;
  CLI::App* schedule_cmd = add_schedule_command(app, schedule);
  PlotConfig plot;
  CLI::App* plot_cmd = add_plot_command(app, plot);
  BenchOptimizerConfig bench_optimizer;
  BenchTrainConfig bench_train;
  const BenchCommands bench = add_bench_command(app, bench_optimizer, bench_train);
  CLI::App* bench_optimizer_cmd = bench.optimizer;
  BenchBatchnormConfig bench_batchnorm;
  CLI::App* bench_batchnorm_cmd = add_bench_batchnorm_command(*bench.group, bench_batchnorm);
  TimeConfig time;
  CLI::App* time_cmd = add_time_command(app, time);
  OptimLabTraceConfig lab_trace;
  OptimLabRegressionConfig lab_regression;
  const OptimLabCommands lab_cmds = add_optim_lab_command(app, lab_trace, lab_regression);
  InfoConfig info;
  CLI::App* info_cmd = add_info_command(app, info);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cutrain: %s\n\n", e.what());
    CLI::App* help_for = &app;
    for (CLI::App* cmd :
         {train_cmd, eval_cmd, schedule_cmd, plot_cmd, bench_optimizer_cmd, bench.train,
          bench_batchnorm_cmd, time_cmd, lab_cmds.trace, lab_cmds.regression, info_cmd})
      if (cmd->parsed()) help_for = cmd;
    std::fprintf(stderr, "%s", help_for->help().c_str());
    return 2;
  }

  try {
    if (train_cmd->parsed()) {
      train.given = given_options(*train_cmd);
      return run_train(train);
    }
    if (eval_cmd->parsed()) return run_eval(eval);
    if (schedule_cmd->parsed()) return run_schedule(schedule);
    if (plot_cmd->parsed()) return run_plot(plot);
    if (bench_optimizer_cmd->parsed()) return run_bench_optimizer(bench_optimizer);
    if (bench.train->parsed()) return run_bench_train(bench_train);
    if (bench_batchnorm_cmd->parsed()) return run_bench_batchnorm(bench_batchnorm);
    if (time_cmd->parsed()) return run_time(time);
    if (lab_cmds.trace->parsed()) return run_optim_lab_trace(lab_trace);
    if (lab_cmds.regression->parsed()) return run_optim_lab_regression(lab_regression);
    if (info_cmd->parsed()) return run_info(info);
  } catch (const cutrain::ConfigError& e) {
    std::fprintf(stderr, "cutrain: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cutrain: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
