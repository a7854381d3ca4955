// Optimizer paths as standalone SVG files: for 2-D objectives, contour lines of f over a grid
// (marching squares) with the path drawn as a polyline with dots; for 1-D objectives, the curve
// f(x) with the points (x_t, f(x_t)) of the path.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

namespace cutrain {

struct PathPlotOptions {
  std::string title, x_label = "x1", y_label = "x2";
  int width = 640, height = 480;
  int levels = 12;  ///< contour levels (2-D)
  int grid = 160;   ///< grid cells per axis (2-D) or curve samples (1-D)
};

/// @brief [x_lo, x_hi, y_lo, y_hi]: the finite points of `path` and `include` (the minimum),
/// padded by 10% of each side's extent (at least 0.5).
std::array<double, 4> path_box(const std::vector<std::array<double, 2>>& path,
                               std::array<double, 2> include = {0.0, 0.0});

/// @brief The SVG document: contour lines of f over `box`, levels spaced so that nested
/// quadratic bowls give evenly spaced rings, and the path (non-finite points skipped).
std::string render_contour_plot(const std::function<double(double, double)>& f,
                                const std::array<double, 4>& box,
                                const std::vector<std::array<double, 2>>& path,
                                const PathPlotOptions& options);

/// @brief The SVG document: f over [-r, r] with r = max |x_t| (at least 1), as the book's
/// show_trace draws it, and the path's points (x_t, f(x_t)) joined by a line.
std::string render_curve_path_plot(const std::function<double(double)>& f,
                                   const std::vector<double>& path, const PathPlotOptions& options);

}  // namespace cutrain
