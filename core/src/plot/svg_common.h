// Helpers shared by the SVG renderers of this directory (svg_plot.cpp, contour_plot.cpp): axis
// ticks, number formatting and XML text escaping. Private to the library.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace cutrain::detail {

// About five "nice" tick values (1, 2, 5 x 10^k) covering [lo, hi].
inline std::vector<double> ticks(double lo, double hi) {
  const double raw = (hi - lo) / 5.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

// `v` as printf's %g writes it.
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// `s` with <, > and & escaped for SVG text content.
inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace cutrain::detail
