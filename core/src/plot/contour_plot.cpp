#include "cutrain/plot/contour_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "svg_common.h"

namespace cutrain {
namespace {

using detail::escape;
using detail::num;
using detail::ticks;

constexpr const char* kPathColor = "#ff7f0e";
constexpr const char* kLineColor = "#1f77b4";

// Maps data coordinates into the plot frame and writes the frame, grid, ticks and labels.
struct Frame {
  double x0, x1, y0, y1;
  double left = 70, top = 40, w = 0, h = 0;
  double px(double x) const { return left + (x - x0) / (x1 - x0) * w; }
  double py(double y) const { return top + (1.0 - (y - y0) / (y1 - y0)) * h; }

  Frame(double xa, double xb, double ya, double yb, const PathPlotOptions& o)
      : x0(xa), x1(xb), y0(ya), y1(yb) {
    w = o.width - left - 25;
    h = o.height - top - 55;
  }

  void open(std::ostringstream& svg, const PathPlotOptions& o) const {
    svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << o.width << "\" height=\""
        << o.height << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        << "<text x=\"" << left + w / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">"
        << escape(o.title) << "</text>\n";
    for (double t : ticks(x0, x1))
      svg << "<text x=\"" << px(t) << "\" y=\"" << top + h + 16 << "\" text-anchor=\"middle\">"
          << num(t) << "</text>\n";
    for (double t : ticks(y0, y1))
      svg << "<text x=\"" << left - 6 << "\" y=\"" << py(t) + 4 << "\" text-anchor=\"end\">"
          << num(t) << "</text>\n";
    svg << "<text x=\"" << left + w / 2 << "\" y=\"" << o.height - 12
        << "\" text-anchor=\"middle\">" << escape(o.x_label) << "</text>\n"
        << "<text transform=\"translate(16," << top + h / 2
        << ") rotate(-90)\" text-anchor=\"middle\">" << escape(o.y_label) << "</text>\n";
  }

  void close(std::ostringstream& svg) const {
    svg << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << w << "\" height=\"" << h
        << "\" fill=\"none\" stroke=\"black\"/>\n</svg>\n";
  }
};

// The path as an orange polyline with a dot per point (finite points only).
void draw_path(std::ostringstream& svg, const Frame& fr,
               const std::vector<std::array<double, 2>>& path) {
  svg << "<polyline fill=\"none\" stroke=\"" << kPathColor << "\" stroke-width=\"1.6\" points=\"";
  for (const auto& p : path)
    if (std::isfinite(p[0]) && std::isfinite(p[1])) svg << fr.px(p[0]) << "," << fr.py(p[1]) << " ";
  svg << "\"/>\n";
  for (const auto& p : path)
    if (std::isfinite(p[0]) && std::isfinite(p[1]))
      svg << "<circle cx=\"" << fr.px(p[0]) << "\" cy=\"" << fr.py(p[1]) << "\" r=\"2.8\" fill=\""
          << kPathColor << "\"/>\n";
}

}  // namespace

std::array<double, 4> path_box(const std::vector<std::array<double, 2>>& path,
                               std::array<double, 2> include) {
  double x0 = include[0], x1 = include[0], y0 = include[1], y1 = include[1];
  for (const auto& p : path) {
    if (!std::isfinite(p[0]) || !std::isfinite(p[1])) continue;
    x0 = std::min(x0, p[0]), x1 = std::max(x1, p[0]);
    y0 = std::min(y0, p[1]), y1 = std::max(y1, p[1]);
  }
  const double px = std::max(0.5, 0.1 * (x1 - x0)), py = std::max(0.5, 0.1 * (y1 - y0));
  return {x0 - px, x1 + px, y0 - py, y1 + py};
}

std::string render_contour_plot(const std::function<double(double, double)>& f,
                                const std::array<double, 4>& box,
                                const std::vector<std::array<double, 2>>& path,
                                const PathPlotOptions& o) {
  const Frame fr(box[0], box[1], box[2], box[3], o);
  const int g = std::max(2, o.grid);
  // Values at the (g+1)^2 grid nodes; node (i, j) is at x0 + i dx, y0 + j dy.
  const double dx = (fr.x1 - fr.x0) / g, dy = (fr.y1 - fr.y0) / g;
  std::vector<double> v(static_cast<size_t>((g + 1) * (g + 1)));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int j = 0; j <= g; ++j)
    for (int i = 0; i <= g; ++i) {
      const double val = f(fr.x0 + i * dx, fr.y0 + j * dy);
      v[j * (g + 1) + i] = val;
      if (std::isfinite(val)) lo = std::min(lo, val), hi = std::max(hi, val);
    }

  std::ostringstream svg;
  fr.open(svg, o);
  if (std::isfinite(lo) && hi > lo) {
    for (int k = 1; k <= o.levels; ++k) {
      // Quadratic spacing: for a quadratic bowl the rings are evenly spaced in radius.
      const double r = static_cast<double>(k) / (o.levels + 1);
      const double level = lo + (hi - lo) * r * r;
      svg << "<path fill=\"none\" stroke=\"" << kLineColor << "\" stroke-opacity=\"0.55\" d=\"";
      for (int j = 0; j < g; ++j)
        for (int i = 0; i < g; ++i) {
          // Corners a (i, j), b (i+1, j), c (i+1, j+1), d (i, j+1); edges bottom a-b, right
          // b-c, top d-c, left a-d. A crossing is interpolated linearly along its edge.
          const double a = v[j * (g + 1) + i], b = v[j * (g + 1) + i + 1];
          const double c = v[(j + 1) * (g + 1) + i + 1], d = v[(j + 1) * (g + 1) + i];
          if (!std::isfinite(a + b + c + d)) continue;
          const double xa = fr.x0 + i * dx, ya = fr.y0 + j * dy;
          std::array<double, 2> pts[4];
          int found[4], count = 0;
          auto cross = [&](int edge, double p, double q, double x_p, double y_p, double x_q,
                           double y_q) {
            if ((p < level) == (q < level)) return;
            const double t = (level - p) / (q - p);
            pts[edge] = {x_p + t * (x_q - x_p), y_p + t * (y_q - y_p)};
            found[count++] = edge;
          };
          cross(0, a, b, xa, ya, xa + dx, ya);
          cross(1, b, c, xa + dx, ya, xa + dx, ya + dy);
          cross(2, d, c, xa, ya + dy, xa + dx, ya + dy);
          cross(3, a, d, xa, ya, xa, ya + dy);
          auto seg = [&](int e, int f2) {
            svg << "M" << fr.px(pts[e][0]) << " " << fr.py(pts[e][1]) << "L" << fr.px(pts[f2][0])
                << " " << fr.py(pts[f2][1]);
          };
          if (count == 2) {
            seg(found[0], found[1]);
          } else if (count == 4) {
            // Saddle: the centre decides whether a and c are joined (cut off b and d) or not.
            const bool center_like_a = ((a + b + c + d) / 4 < level) == (a < level);
            if (center_like_a) {
              seg(0, 1), seg(2, 3);
            } else {
              seg(3, 0), seg(1, 2);
            }
          }
        }
      svg << "\"/>\n";
    }
  }
  draw_path(svg, fr, path);
  fr.close(svg);
  return svg.str();
}

std::string render_curve_path_plot(const std::function<double(double)>& f,
                                   const std::vector<double>& path, const PathPlotOptions& o) {
  double r = 1.0;
  for (double x : path)
    if (std::isfinite(x)) r = std::max(r, std::abs(x));
  const int samples = std::max(2, o.grid * 4);
  std::vector<std::array<double, 2>> curve, points;
  double y0 = std::numeric_limits<double>::infinity(), y1 = -y0;
  for (int i = 0; i <= samples; ++i) {
    const double x = -r + 2.0 * r * i / samples, y = f(x);
    curve.push_back({x, y});
    if (std::isfinite(y)) y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  for (double x : path) {
    points.push_back({x, f(x)});
    if (std::isfinite(points.back()[1]))
      y0 = std::min(y0, points.back()[1]), y1 = std::max(y1, points.back()[1]);
  }
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  const Frame fr(-r, r, y0 - pad, y1 + pad, o);
  std::ostringstream svg;
  fr.open(svg, o);
  svg << "<polyline fill=\"none\" stroke=\"" << kLineColor << "\" stroke-width=\"1.6\" points=\"";
  for (const auto& p : curve)
    if (std::isfinite(p[1])) svg << fr.px(p[0]) << "," << fr.py(p[1]) << " ";
  svg << "\"/>\n";
  draw_path(svg, fr, points);
  fr.close(svg);
  return svg.str();
}

}  // namespace cutrain
