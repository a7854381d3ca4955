// `cutrain optim-lab regression`: one optimizer, or the book's list (--compare), on the airfoil
// data; loss curves printed and drawn against epochs and seconds.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "cutrain/error.h"
#include "cutrain/io/atomic_file.h"
#include "cutrain/lab/airfoil.h"
#include "cutrain/lab/regression.h"
#include "cutrain/plot/svg_plot.h"
#include "optim_lab_command.h"

namespace cutrain::app {
namespace {

// Points outside [lo, hi] become NaN, which the plot skips: the book's ylim.
std::vector<double> clipped(const std::vector<double>& y, const std::vector<double>& ylim) {
  if (ylim.size() != 2) return y;
  std::vector<double> out = y;
  for (double& v : out)
    if (v < ylim[0] || v > ylim[1]) v = std::numeric_limits<double>::quiet_NaN();
  return out;
}

// One SVG with two panels, one above the other: each panel is render_svg_plot's document nested
// as an <svg> element at its y offset. Loss against epochs, and against log10 of the training
// seconds (the book draws time on a log axis).
void write_two_panels(const std::string& path, const std::vector<lab::RegressionRun>& runs,
                      const std::vector<lab::RegressionResult>& results,
                      const std::vector<double>& ylim, const std::string& title) {
  std::vector<PlotSeries> by_epoch, by_time;
  for (size_t k = 0; k < runs.size(); ++k) {
    PlotSeries e, t;
    e.name = t.name = runs[k].label;
    e.dashed = t.dashed = k >= 6;  // colours repeat after ten series
    std::vector<double> loss;
    for (const lab::LossPoint& p : results[k].curve) {
      e.x.push_back(p.epoch);
      t.x.push_back(std::log10(p.seconds));  // 0 s: -inf, skipped by the plot
      loss.push_back(p.loss);
    }
    e.y = t.y = clipped(loss, ylim);
    by_epoch.push_back(std::move(e));
    by_time.push_back(std::move(t));
  }
  const std::string top = render_svg_plot(by_epoch, {title, "epoch", "loss"});
  const std::string bottom = render_svg_plot(
      by_time, {"the same against training time", "log10(seconds of training)", "loss"});
  auto attr = [](const std::string& svg, const std::string& name) {
    const size_t at = svg.find(name + "=\"") + name.size() + 2;
    return std::stoi(svg.substr(at, svg.find('"', at) - at));
  };
  const int w = std::max(attr(top, "width"), attr(bottom, "width"));
  const int h1 = attr(top, "height"), h2 = attr(bottom, "height");
  auto at_y = [](std::string svg, int y) {
    return svg.replace(0, 4, "<svg y=\"" + std::to_string(y) + "\"");
  };
  const std::string doc = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(w) +
                          "\" height=\"" + std::to_string(h1 + h2) +
                          "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" +
                          at_y(top, 0) + at_y(bottom, h1) + "</svg>\n";
  write_file_atomically(path, doc);
}

}  // namespace

int run_optim_lab_regression(const OptimLabRegressionConfig& c) {
  if (c.ylim.size() == 2 && !(c.ylim[0] < c.ylim[1]))
    throw ConfigError("--ylim: expected LO,HI with LO < HI");
  std::vector<lab::RegressionRun> runs;
  if (c.compare) {
    runs = lab::book_regression_runs(c.epochs, c.seed);
  } else {
    lab::RegressionRun run;
    run.options.optimizer = c.hyper.optimizer;
    run.options.optim = c.hyper.resolved();
    run.options.batch_size = c.batch_size;
    run.options.epochs = c.epochs;
    run.options.seed = c.seed;
    runs.push_back(std::move(run));
  }
  for (lab::RegressionRun& r : runs) r.options.eval_every = c.eval_every;
  const lab::RegressionData data = lab::load_airfoil(c.data, c.rows);
  std::printf("# data %s: %lld examples, %lld features, every column standardised\n",
              c.data.c_str(), static_cast<long long>(data.count),
              static_cast<long long>(data.features));

  std::vector<lab::RegressionResult> results;
  for (size_t k = 0; k < runs.size(); ++k) {
    lab::RegressionResult r = lab::run_regression(data, runs[k].options);
    if (runs[k].label.empty()) runs[k].label = r.description;
    std::printf("# run %zu/%zu: %s\nepoch seconds loss\n", k + 1, runs.size(),
                r.description.c_str());
    for (const lab::LossPoint& p : r.curve)
      std::printf("%.4f %.6f %.6f\n", p.epoch, p.seconds, p.loss);
    std::printf("# final loss %.6f after %lld examples, %.4f s of training\n", r.final_loss,
                static_cast<long long>(r.curve.back().examples), r.seconds);
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  if (runs.size() > 1) {
    std::printf("# summary: final loss (the book: about 0.24-0.25), training time\n");
    for (size_t k = 0; k < runs.size(); ++k)
      std::printf("#   %-48s %.4f  %.2f ms\n", runs[k].label.c_str(), results[k].final_loss,
                  1e3 * results[k].seconds);
  }
  if (!c.plot_path.empty()) {
    std::vector<double> ylim = c.ylim;
    if (ylim.empty() && c.compare) ylim = {0.22, 0.35};
    write_two_panels(c.plot_path, runs, results, ylim,
                     c.compare ? "airfoil linear regression: the book's optimizers"
                               : "airfoil linear regression: " + runs[0].label);
    std::fprintf(stderr, "plot written to %s\n", c.plot_path.c_str());
  }
  return 0;
}

}  // namespace cutrain::app
