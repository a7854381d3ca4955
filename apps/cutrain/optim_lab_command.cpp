#include "optim_lab_command.h"
#include "number_flags.h"

#include <cstdio>

#include "cutrain/io/atomic_file.h"
#include "cutrain/lab/objectives.h"
#include "cutrain/lab/trace.h"
#include "cutrain/plot/contour_plot.h"
#include "cutrain/plot/svg_plot.h"
#include "schedule_command.h"

namespace cutrain::app {
namespace {

// The optimizer and hyperparameter flags; returns the hyperparameter options (for excludes).
std::vector<CLI::Option*> add_hyperparameter_flags(CLI::App* cmd, LabHyperparameters& h,
                                                   const std::vector<std::string>& names,
                                                   bool with_newton) {
  cmd->add_option("--optimizer", h.optimizer, "Optimizer")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  return {
      cmd->add_option("--lr,--eta", h.lr,
                      std::string("Learning rate (default: 0.1; adadelta: multiplier of its "
                                  "step, 1") +
                          (with_newton ? "; newton: eta, 1)" : ")"))
          ->check(kNonNegativeNumber),
      cmd->add_option("--momentum,--beta", h.optim.momentum, "momentum, nesterov: beta")
          ->capture_default_str(),
      cmd->add_option("--beta1", h.optim.beta1, "adam, adamw, yogi: beta1")->capture_default_str(),
      cmd->add_option("--beta2", h.optim.beta2, "adam, adamw, yogi: beta2")->capture_default_str(),
      cmd->add_option("--gamma", h.optim.gamma, "rmsprop: gamma")->capture_default_str(),
      cmd->add_option("--rho", h.optim.rho, "adadelta: rho")->capture_default_str(),
      cmd->add_option("--eps", h.eps,
                      "epsilon (default: 1e-6 adagrad/rmsprop/adam/adamw, 1e-5 adadelta, "
                      "1e-3 yogi)"),
      cmd->add_option("--weight-decay", h.optim.weight_decay, "L2 weight decay")
          ->capture_default_str(),
  };
}

std::string coords(const lab::Point& x) {
  std::string s;
  for (double v : x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    s += (s.empty() ? "" : " ") + std::string(buf);
  }
  return s;
}

}  // namespace

OptimizerOptions LabHyperparameters::resolved() const {
  OptimizerOptions o = optim;
  if (!std::isnan(lr)) o.lr = lr;
  if (!std::isnan(eps)) o.eps = eps;
  return o;
}

OptimLabCommands add_optim_lab_command(CLI::App& app, OptimLabTraceConfig& t,
                                       OptimLabRegressionConfig& r) {
  CLI::App* lab = app.add_subcommand(
      "optim-lab", "The book's optimization experiments through the engine's optimizers");
  lab->require_subcommand(1);
  OptimLabCommands cmds;

  cmds.trace = lab->add_subcommand(
      "trace", "Follow an optimizer on a 1-D or 2-D objective: one line per step, path plot");
  cmds.trace->add_option("--function", t.function, lab::objective_help())
      ->check(CLI::IsMember(lab::objective_names()))
      ->required();
  add_hyperparameter_flags(cmds.trace, t.hyper, lab::trace_optimizer_names(), true);
  cmds.trace->add_option("--steps", t.steps, "Updates to make")
      ->check(CLI::Range(int64_t{0}, int64_t{10'000'000}))
      ->capture_default_str();
  cmds.trace->add_option("--start", t.start, "Starting point: x, or x1,x2 (default: the book's)")
      ->delimiter(',');
  cmds.trace->add_option("--c", t.c, "The constant c of xcos (0.15 pi) and cosh (0.5)");
  cmds.trace
      ->add_option("--noise", t.noise,
                   "Add N(0, SIGMA^2) to every gradient component (stochastic gradient)")
      ->check(kNonNegativeNumber)
      ->capture_default_str();
  cmds.trace->add_option("--seed", t.seed, "Seed of the gradient noise")->capture_default_str();
  cmds.trace->add_option("--lr-schedule", t.lr_schedule,
                         scheduler_help() + "\n  (step t = 0, 1, ... uses lr(t))");
  cmds.trace->add_option("--plot", t.plot_path,
                         "Draw the path into this SVG file (2-D: over contour lines of f)");

  cmds.regression = lab->add_subcommand(
      "regression", "Linear regression on the airfoil self-noise data; loss every 200 examples");
  cmds.regression
      ->add_option("--data", r.data,
                   "The airfoil_self_noise.dat file (tab-separated, 5 features + "
                   "target)")
      ->required();
  const std::vector<CLI::Option*> hyper =
      add_hyperparameter_flags(cmds.regression, r.hyper, optimizer_names(), false);
  CLI::Option* batch = cmds.regression->add_option("--batch-size", r.batch_size, "Minibatch size")
                           ->check(CLI::Range(int64_t{1}, int64_t{1} << 24))
                           ->capture_default_str();
  cmds.regression->add_option("--epochs", r.epochs, "Passes over the data")
      ->check(CLI::Range(int64_t{1}, int64_t{100'000}))
      ->capture_default_str();
  cmds.regression->add_option("--rows", r.rows, "Use the first N rows (the book: 1500)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  cmds.regression->add_option("--eval-every", r.eval_every, "Examples between loss evaluations")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  cmds.regression->add_option("--seed", r.seed, "Seed of the initial weights and the shuffling")
      ->capture_default_str();
  CLI::Option* compare = cmds.regression->add_flag(
      "--compare", r.compare,
      "Run the book's list of optimizers and hyperparameters and draw them on one plot");
  for (CLI::Option* o : hyper) compare->excludes(o);
  compare->excludes(batch);
  compare->excludes(cmds.regression->get_option("--optimizer"));
  cmds.regression
      ->add_option("--ylim", r.ylim,
                   "LO,HI: loss range of the plot (default: automatic; --compare: "
                   "0.22,0.35 as in the book)")
      ->delimiter(',')
      ->expected(2);
  cmds.regression->add_option("--plot", r.plot_path,
                              "Draw the loss against epochs and against seconds (two panels) "
                              "into this SVG file");
  return cmds;
}

int run_optim_lab_trace(const OptimLabTraceConfig& c) {
  const lab::Objective f =
      lab::make_objective(c.function, std::isnan(c.c) ? std::nullopt : std::optional(c.c));
  lab::TraceOptions o;
  o.optimizer = c.hyper.optimizer;
  o.optim = c.hyper.resolved();
  o.steps = c.steps;
  o.start = c.start;
  o.noise = c.noise;
  o.seed = c.seed;
  o.lr_schedule = c.lr_schedule;
  // Everything is checked (run_trace throws ConfigError) before the first line is printed.
  const lab::Trace trace = lab::run_trace(f, o);
  std::printf("# function %s: f(x) = %s\n", f.name.c_str(), f.formula.c_str());
  std::printf("# optimizer: %s\n", trace.description.c_str());
  if (c.noise > 0.0)
    std::printf("# gradient noise N(0, %g^2) per component, seed %llu\n", c.noise,
                static_cast<unsigned long long>(c.seed));
  std::printf(f.dims == 2 ? "step x1 x2 f\n" : "step x f\n");
  for (const lab::TraceStep& s : trace.steps)
    std::printf("%lld %s %.7g\n", static_cast<long long>(s.step), coords(s.x).c_str(), s.f);
  if (!c.plot_path.empty()) {
    PathPlotOptions po;
    po.title = f.formula + ": " + trace.description.substr(0, trace.description.find(" ("));
    if (c.noise > 0.0) po.title += ", gradient noise sigma " + coords({c.noise});
    if (f.dims == 2) {
      std::vector<std::array<double, 2>> path;
      for (const lab::TraceStep& s : trace.steps) path.push_back({s.x[0], s.x[1]});
      const auto value = [&f](double x1, double x2) { return f.value({x1, x2}); };
      write_file_atomically(c.plot_path, render_contour_plot(value, path_box(path), path, po));
    } else {
      std::vector<double> path;
      for (const lab::TraceStep& s : trace.steps) path.push_back(s.x[0]);
      po.x_label = "x";
      po.y_label = "f(x)";
      const auto value = [&f](double x) { return f.value({x}); };
      write_file_atomically(c.plot_path, render_curve_path_plot(value, path, po));
    }
    std::fprintf(stderr, "plot written to %s\n", c.plot_path.c_str());
  }
  return 0;
}

}  // namespace cutrain::app
