// The 1-D and 2-D objectives of the book's optimization chapter (shared/reference/
// experiments.md): value, gradient and Hessian in double precision, for the optimizer lab's
// trajectories and Newton's method.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cutrain::lab {

using Point = std::vector<double>;

/// @brief A smooth objective f: R^dims -> R with its first and second derivatives.
struct Objective {
  std::string name;     ///< the --function name ("quadratic2d")
  std::string formula;  ///< for output ("x1^2 + 2*x2^2")
  int dims = 1;         ///< 1 or 2
  Point start;          ///< the book's starting point
  std::function<double(const Point&)> value;
  std::function<Point(const Point&)> gradient;
  /// Row-major dims x dims Hessian.
  std::function<std::vector<double>(const Point&)> hessian;
};

/// @brief The available functions, with their formulas, for help texts:
/// | name | f | start |
/// |---|---|---|
/// | square | x^2 | 10 |
/// | xcos | x*cos(c*x), c = 0.15 pi | 10 |
/// | cosh | cosh(c*x), c = 0.5 | 10 |
/// | quadratic2d | x1^2 + 2*x2^2 | (-5, -2) |
/// | ill-conditioned | 0.1*x1^2 + 2*x2^2 | (-5, -2) |
std::vector<std::string> objective_names();
std::string objective_help();

/// @brief The objective called `name`; `c` overrides the constant of xcos and cosh.
/// @throws ConfigError for an unknown name, or a `c` given to a function without one.
Objective make_objective(const std::string& name, std::optional<double> c = std::nullopt);

}  // namespace cutrain::lab
