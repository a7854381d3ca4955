#include "schedule_command.h"
#include "number_flags.h"

#include <cstdio>
#include <memory>

#include "cutrain/plot/svg_plot.h"
#include "cutrain/schedule/scheduler.h"

namespace cutrain::app {

std::string scheduler_help() {
  return "Learning-rate schedule SPEC = name[:key=value,...]:\n"
         "  constant | sqrt | exponential:k=0.1 | polynomial:a=0.1,p=0.5 |\n"
         "  poly:max_update=T,p=1 | factor:alpha=0.9,min_lr=0.01 |\n"
         "  multifactor:milestones=15;30,alpha=0.5 | step:step_size=S,gamma=0.1 |\n"
         "  cosine:max_update=T,final_lr=0 |\n"
         "  onecycle:max_update=T,pct_start=0.3,div_factor=25,final_div_factor=1e4 |\n"
         "  plateau:factor=0.1,patience=10,threshold=1e-4,min_lr=0\n"
         "  any of them also takes warmup=W,warmup_begin_lr=0 (linear warm-up)";
}

CLI::App* add_schedule_command(CLI::App& app, ScheduleConfig& c) {
  CLI::App* cmd = app.add_subcommand("schedule", "Print and plot learning-rate schedules");
  cmd->add_option("--scheduler", c.specs, scheduler_help() + " (repeat to compare)")->required();
  cmd->add_option("--lr", c.lr, "Base learning rate")
      ->check(kNonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--steps", c.steps, "Values of t to print: 0 .. steps-1")
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}))
      ->capture_default_str();
  cmd->add_option("--plot", c.plot_path, "Draw lr against t into this SVG file");
  return cmd;
}

int run_schedule(const ScheduleConfig& c) {
  std::vector<std::unique_ptr<Scheduler>> schedules;
  for (const std::string& spec : c.specs) schedules.push_back(make_scheduler(spec, c.lr));
  std::vector<PlotSeries> series(schedules.size());
  std::printf("# step");
  for (const auto& s : schedules) std::printf(" %s", s->describe().c_str());
  std::printf("\n");
  for (int64_t t = 0; t < c.steps; ++t) {
    std::printf("%lld", static_cast<long long>(t));
    for (size_t k = 0; k < schedules.size(); ++k) {
      const double lr = schedules[k]->lr(t);
      std::printf(" %.6g", lr);
      series[k].x.push_back(static_cast<double>(t));
      series[k].y.push_back(lr);
    }
    std::printf("\n");
  }
  if (!c.plot_path.empty()) {
    for (size_t k = 0; k < schedules.size(); ++k) series[k].name = c.specs[k];
    write_svg_plot(c.plot_path, series, {"learning rate schedule", "t", "learning rate"});
    std::fprintf(stderr, "plot written to %s\n", c.plot_path.c_str());
  }
  return 0;
}

}  // namespace cutrain::app
