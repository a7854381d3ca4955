// cutrain: the command-line front end. Exit codes: 0 success, 1 runtime failure (bad data,
// device error), 2 usage error (unknown flag, bad value).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cutrain/error.h"
#include "bench_command.h"
#include "schedule_command.h"
#include "train_command.h"

int main(int argc, char** argv) {
  CLI::App app{"cutrain: a CUDA training engine (LeNet on Fashion-MNIST, CPU and CUDA)"};
  app.require_subcommand(1);
  cutrain::app::TrainConfig train;
  CLI::App* train_cmd = cutrain::app::add_train_command(app, train);
  cutrain::app::BenchOptimizerConfig bench_optimizer;
  CLI::App* bench_optimizer_cmd = cutrain::app::add_bench_command(app, bench_optimizer);
  cutrain::app::ScheduleConfig schedule;
  CLI::App* schedule_cmd = cutrain::app::add_schedule_command(app, schedule);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "cutrain: %s\n\n", e.what());
    CLI::App* help_for = train_cmd->parsed()             ? train_cmd
                         : bench_optimizer_cmd->parsed() ? bench_optimizer_cmd
                         : schedule_cmd->parsed()        ? schedule_cmd
                                                         : &app;
    std::fprintf(stderr, "%s", help_for->help().c_str());
    return 2;
  }

  try {
    if (train_cmd->parsed()) return cutrain::app::run_train(train);
    if (bench_optimizer_cmd->parsed()) return cutrain::app::run_bench_optimizer(bench_optimizer);
    if (schedule_cmd->parsed()) return cutrain::app::run_schedule(schedule);
  } catch (const cutrain::ConfigError& e) {
    std::fprintf(stderr, "cutrain: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cutrain: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
