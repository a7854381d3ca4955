// Line plots as standalone SVG files (no plotting library needed to look at results): axes
// with rounded ticks, one coloured polyline per series, a legend. Used for learning-rate
// schedules, training curves and optimizer paths.
#pragma once

#include <string>
#include <vector>

namespace cutrain {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;
};

struct PlotOptions {
  std::string title, x_label, y_label;
  int width = 720, height = 440;
};

/// @brief The SVG document for `series` (non-finite points are skipped).
std::string render_svg_plot(const std::vector<PlotSeries>& series, const PlotOptions& options);

/// @brief Writes render_svg_plot to `path` through a temporary file and a rename, so a reader
/// never sees half a file. Throws DataError naming the path on failure.
void write_svg_plot(const std::string& path, const std::vector<PlotSeries>& series,
                    const PlotOptions& options);

}  // namespace cutrain
