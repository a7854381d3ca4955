#include "cutrain/lab/objectives.h"

#include <cmath>
#include <cstdio>

#include "cutrain/error.h"

namespace cutrain::lab {
namespace {

constexpr double kPi = 3.14159265358979323846;

// f(x) = a x1^2 + b x2^2: gradient (2a x1, 2b x2), Hessian diag(2a, 2b).
Objective quadratic(const std::string& name, const std::string& formula, double a, double b) {
  Objective f;
  f.name = name;
  f.formula = formula;
  f.dims = 2;
  f.start = {-5.0, -2.0};
  f.value = [a, b](const Point& x) { return a * x[0] * x[0] + b * x[1] * x[1]; };
  f.gradient = [a, b](const Point& x) { return Point{2.0 * a * x[0], 2.0 * b * x[1]}; };
  f.hessian = [a, b](const Point&) { return std::vector<double>{2.0 * a, 0.0, 0.0, 2.0 * b}; };
  return f;
}

Objective one_d(const std::string& name, const std::string& formula,
                std::function<double(double)> v, std::function<double(double)> d1,
                std::function<double(double)> d2) {
  Objective f;
  f.name = name;
  f.formula = formula;
  f.dims = 1;
  f.start = {10.0};
  f.value = [v](const Point& x) { return v(x[0]); };
  f.gradient = [d1](const Point& x) { return Point{d1(x[0])}; };
  f.hessian = [d2](const Point& x) { return std::vector<double>{d2(x[0])}; };
  return f;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::vector<std::string> objective_names() {
  return {"square", "xcos", "cosh", "quadratic2d", "ill-conditioned"};
}

std::string objective_help() {
  return "Objective: square (x^2, from 10) | xcos (x*cos(c*x), c = 0.15 pi, from 10) |\n"
         "  cosh (cosh(c*x), c = 0.5, from 10) | quadratic2d (x1^2 + 2*x2^2, from (-5, -2)) |\n"
         "  ill-conditioned (0.1*x1^2 + 2*x2^2, from (-5, -2))";
}

Objective make_objective(const std::string& name, std::optional<double> c) {
  const bool has_c = name == "xcos" || name == "cosh";
  if (c && !has_c) throw ConfigError("--c: function '" + name + "' has no constant c");
  if (c && !std::isfinite(*c)) throw ConfigError("--c: expected a finite number");
  if (name == "square")
    return one_d(
        name, "x^2", [](double x) { return x * x; }, [](double x) { return 2.0 * x; },
        [](double) { return 2.0; });
  if (name == "xcos") {
    const double k = c.value_or(0.15 * kPi);
    // f' = cos(kx) - kx sin(kx); f'' = -2k sin(kx) - k^2 x cos(kx).
    return one_d(
        name, "x*cos(c*x), c = " + num(k), [k](double x) { return x * std::cos(k * x); },
        [k](double x) { return std::cos(k * x) - k * x * std::sin(k * x); },
        [k](double x) { return -2.0 * k * std::sin(k * x) - k * k * x * std::cos(k * x); });
  }
  if (name == "cosh") {
    const double k = c.value_or(0.5);
    return one_d(
        name, "cosh(c*x), c = " + num(k), [k](double x) { return std::cosh(k * x); },
        [k](double x) { return k * std::sinh(k * x); },
        [k](double x) { return k * k * std::cosh(k * x); });
  }
  if (name == "quadratic2d") return quadratic(name, "x1^2 + 2*x2^2", 1.0, 2.0);
  if (name == "ill-conditioned") return quadratic(name, "0.1*x1^2 + 2*x2^2", 0.1, 2.0);
  std::string known;
  for (const std::string& n : objective_names()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("--function: unknown function '" + name + "' (available: " + known + ")");
}

}  // namespace cutrain::lab
