// The lab's objectives: gradients and Hessians against central finite differences of the
// values (and of the gradients), at points spread over the plotted range.
#include <gtest/gtest.h>

#include <cmath>

#include "cutrain/error.h"
#include "cutrain/lab/objectives.h"

namespace cutrain::lab {
namespace {

std::vector<Point> sample_points(int dims) {
  if (dims == 1) return {{-9.3}, {-2.0}, {0.0}, {0.7}, {4.4}, {10.0}};
  return {{-5.0, -2.0}, {0.3, -1.7}, {2.5, 0.9}, {-0.1, 3.2}};
}

TEST(LabObjectives, GradientsMatchFiniteDifferences) {
  for (const std::string& name : objective_names()) {
    const Objective f = make_objective(name);
    ASSERT_EQ(static_cast<int>(f.start.size()), f.dims) << name;
    for (const Point& x : sample_points(f.dims)) {
      const Point g = f.gradient(x);
      ASSERT_EQ(static_cast<int>(g.size()), f.dims);
      for (int i = 0; i < f.dims; ++i) {
        const double h = 1e-5;
        Point plus = x, minus = x;
        plus[i] += h, minus[i] -= h;
        const double fd = (f.value(plus) - f.value(minus)) / (2 * h);
        EXPECT_NEAR(g[i], fd, 1e-6 * (1.0 + std::abs(fd)))
            << name << " d/dx" << i + 1 << " at x[0] = " << x[0];
      }
    }
  }
}

TEST(LabObjectives, HessiansMatchFiniteDifferencesOfTheGradient) {
  for (const std::string& name : objective_names()) {
    const Objective f = make_objective(name);
    for (const Point& x : sample_points(f.dims)) {
      const std::vector<double> hess = f.hessian(x);
      ASSERT_EQ(static_cast<int>(hess.size()), f.dims * f.dims);
      for (int j = 0; j < f.dims; ++j) {
        const double h = 1e-5;
        Point plus = x, minus = x;
        plus[j] += h, minus[j] -= h;
        const Point gp = f.gradient(plus), gm = f.gradient(minus);
        for (int i = 0; i < f.dims; ++i) {
          const double fd = (gp[i] - gm[i]) / (2 * h);
          EXPECT_NEAR(hess[i * f.dims + j], fd, 1e-5 * (1.0 + std::abs(fd)))
              << name << " H[" << i << "][" << j << "] at x[0] = " << x[0];
        }
      }
    }
  }
}

TEST(LabObjectives, ValuesAndStartsAreTheBooks) {
  EXPECT_DOUBLE_EQ(make_objective("quadratic2d").value({-5, -2}), 33.0);
  EXPECT_DOUBLE_EQ(make_objective("ill-conditioned").value({-5, -2}), 10.5);
  EXPECT_DOUBLE_EQ(make_objective("square").value({10}), 100.0);
  EXPECT_NEAR(make_objective("xcos").value({10}), 10.0 * std::cos(1.5 * M_PI), 1e-12);
  EXPECT_NEAR(make_objective("cosh").value({2}), std::cosh(1.0), 1e-12);
  EXPECT_NEAR(make_objective("cosh", 2.0).value({2}), std::cosh(4.0), 1e-9);
  EXPECT_EQ(make_objective("quadratic2d").start, (Point{-5, -2}));
  EXPECT_EQ(make_objective("square").start, (Point{10}));
}

TEST(LabObjectives, UnknownNamesAndMisplacedConstantsAreConfigErrors) {
  EXPECT_THROW(make_objective("rosenbrock"), ConfigError);
  EXPECT_THROW(make_objective("square", 1.0), ConfigError);
  EXPECT_THROW(make_objective("xcos", std::nan("")), ConfigError);
  try {
    make_objective("rosenbrock");
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("ill-conditioned"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cutrain::lab
