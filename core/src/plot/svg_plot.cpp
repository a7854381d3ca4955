#include "cutrain/plot/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "cutrain/error.h"
#include "cutrain/io/atomic_file.h"
#include "svg_common.h"

namespace cutrain {
namespace {

using detail::escape;
using detail::num;
using detail::ticks;

constexpr const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

}  // namespace

std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const PlotSeries& s : series)
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]), y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12 * std::max(1.0, std::abs(y0))) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad, y1 += pad;

  size_t longest = 0;
  for (const PlotSeries& s : series) longest = std::max(longest, s.name.size());
  // The legend sits right of the plot and grows with the longest name.
  const double legend = std::min(420.0, 56.0 + 6.8 * static_cast<double>(longest));
  const double left = 70, right = 20 + legend, top = 40, bottom = 55;
  const int width = o.width + static_cast<int>(legend) - 150;
  const double w = width - left - right, h = o.height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto py = [&](double y) { return top + (1.0 - (y - y0) / (y1 - y0)) * h; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << o.height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << left + w / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
      << escape(o.title) << "</text>\n";
  for (double t : ticks(x0, x1)) {
    svg << "<line x1=\"" << px(t) << "\" y1=\"" << top << "\" x2=\"" << px(t) << "\" y2=\""
        << top + h << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << px(t) << "\" y=\"" << top + h + 16
        << "\" text-anchor=\"middle\">" << num(t) << "</text>\n";
  }
  for (double t : ticks(y0, y1)) {
    svg << "<line x1=\"" << left << "\" y1=\"" << py(t) << "\" x2=\"" << left + w << "\" y2=\""
        << py(t) << "\" stroke=\"#e6e6e6\"/>\n<text x=\"" << left - 6 << "\" y=\"" << py(t) + 4
        << "\" text-anchor=\"end\">" << num(t) << "</text>\n";
  }
  svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w << "\" height=\"" << h
      << "\" fill=\"none\" stroke=\"black\"/>\n"
      << "<text x=\"" << left + w / 2 << "\" y=\"" << o.height - 12
      << "\" text-anchor=\"middle\">" << escape(o.x_label) << "</text>\n"
      << "<text transform=\"translate(16," << top + h / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << escape(o.y_label) << "</text>\n";
  for (size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    const char* color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.8\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
    for (size_t i = 0; i < std::min(s.x.size(), s.y.size()); ++i)
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        svg << px(s.x[i]) << "," << py(s.y[i]) << " ";
    svg << "\"/>\n";
    const double ly = top + 10 + 18.0 * static_cast<double>(k);
    svg << "<line x1=\"" << left + w + 12 << "\" y1=\"" << ly << "\" x2=\"" << left + w + 36
        << "\" y2=\"" << ly << "\" stroke=\"" << color << "\" stroke-width=\"2\""
        << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n<text x=\"" << left + w + 42
        << "\" y=\"" << ly + 4 << "\">" << escape(s.name) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

void write_svg_plot(const std::string& path, const std::vector<PlotSeries>& series,
                    const PlotOptions& options) {
  write_file_atomically(path, render_svg_plot(series, options));
}

}  // namespace cutrain
