// The 2-D and 1-D objectives of shared/reference/experiments.md through the real optimizer
// objects on the CPU: a Parameter of one or two elements whose gradient is filled from the
// analytic gradient before each step. Trajectories are checked against closed forms where GD has
// one, and final points against the values a double-precision run of the same rule gives (they
// are also the numbers d2l prints), with margins far tighter than the gaps between rules.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/tensor.h"

namespace cutrain {
namespace {

using Point = std::vector<double>;
using Gradient = std::function<Point(const Point&)>;

// f(x) = x1^2 + 2 x2^2 and the ill-conditioned f(x) = 0.1 x1^2 + 2 x2^2.
double f_round(const Point& x) { return x[0] * x[0] + 2.0 * x[1] * x[1]; }
Point g_round(const Point& x) { return {2.0 * x[0], 4.0 * x[1]}; }
double f_ill(const Point& x) { return 0.1 * x[0] * x[0] + 2.0 * x[1] * x[1]; }
Point g_ill(const Point& x) { return {0.2 * x[0], 4.0 * x[1]}; }
Point g_square(const Point& x) { return {2.0 * x[0]}; }  // f(x) = x^2

// Runs `steps` steps of optimizer `name` from x0; returns every point, x0 first.
std::vector<Point> trajectory(const std::string& name, OptimizerOptions o, const Point& x0,
                              const Gradient& grad, int steps) {
  Context ctx(Device::CPU);
  const auto n = static_cast<int64_t>(x0.size());
  Tensor x = Tensor::from_vector(std::vector<float>(x0.begin(), x0.end()), {n}, Device::CPU);
  Tensor g = Tensor::zeros({n}, Device::CPU);
  std::vector<ParamGroup> groups(1);
  groups[0].params = {{"x", &x, &g}};
  auto opt = make_optimizer(name, groups, o, ctx);
  std::vector<Point> path = {x0};
  for (int t = 0; t < steps; ++t) {
    const std::vector<float> now = x.to_vector();
    const Point gd = grad(Point(now.begin(), now.end()));
    const std::vector<float> gf(gd.begin(), gd.end());
    g.copy_from_host(gf.data(), n);
    opt->step(ctx);
    const std::vector<float> next = x.to_vector();
    path.emplace_back(next.begin(), next.end());
  }
  return path;
}

// Records the final point and objective in the test's XML report (--gtest_output=xml).
void record(const std::string& key, const Point& x, double f) {
  std::ostringstream out;
  out << std::setprecision(7) << "x = (" << x[0];
  if (x.size() > 1) out << ", " << x[1];
  out << "), f = " << f;
  ::testing::Test::RecordProperty(key, out.str());
}

OptimizerOptions lr_only(double lr) {
  OptimizerOptions o;
  o.lr = lr;
  return o;
}

TEST(OptimExperiment, GdOnRoundQuadraticFollowsClosedForm) {
  const std::vector<Point> p = trajectory("sgd", lr_only(0.1), {-5, -2}, g_round, 20);
  for (int t = 0; t <= 20; ++t) {  // x1 *= 1 - 2 eta, x2 *= 1 - 4 eta
    EXPECT_NEAR(p[t][0], -5.0 * std::pow(0.8, t), 1e-5 * 5.0 * std::pow(0.8, t)) << "t " << t;
    EXPECT_NEAR(p[t][1], -2.0 * std::pow(0.6, t), 1e-5 * 2.0 * std::pow(0.6, t)) << "t " << t;
    if (t > 0) {
      EXPECT_LT(f_round(p[t]), f_round(p[t - 1]));
    }
  }
  EXPECT_NEAR(f_round(p[20]), 0.0033231, 1e-6);  // double: 0.00332308
  record("gd_eta0.1", p[20], f_round(p[20]));
}

TEST(OptimExperiment, GdOnIllConditionedQuadraticConvergesAt04DivergesAt06) {
  const std::vector<Point> a = trajectory("sgd", lr_only(0.4), {-5, -2}, g_ill, 20);
  const std::vector<Point> b = trajectory("sgd", lr_only(0.6), {-5, -2}, g_ill, 20);
  for (int t = 0; t <= 20; ++t) {  // x1 *= 1 - 0.2 eta, x2 *= 1 - 4 eta
    const double a1 = -5.0 * std::pow(0.92, t), a2 = -2.0 * std::pow(-0.6, t);
    const double b1 = -5.0 * std::pow(0.88, t), b2 = -2.0 * std::pow(-1.4, t);
    EXPECT_NEAR(a[t][0], a1, 1e-5 * std::abs(a1)) << "eta 0.4, t " << t;
    EXPECT_NEAR(a[t][1], a2, 1e-5 * std::abs(a2)) << "eta 0.4, t " << t;
    EXPECT_NEAR(b[t][0], b1, 1e-5 * std::abs(b1)) << "eta 0.6, t " << t;
    EXPECT_NEAR(b[t][1], b2, 1e-5 * std::abs(b2)) << "eta 0.6, t " << t;
    if (t > 0) {
      EXPECT_GT(std::abs(b[t][1]), 1.3 * std::abs(b[t - 1][1])) << "t " << t;
    }
  }
  // eta 0.4: (-0.943467, -7.3e-5), slow in x1 only; eta 0.6: x2 oscillates out to -1673.37.
  EXPECT_NEAR(a[20][0], -0.943467, 1e-5);
  EXPECT_LT(std::abs(a[20][1]), 1e-4);
  EXPECT_NEAR(f_ill(a[20]), 0.0890129, 1e-5);
  EXPECT_NEAR(b[20][1], -1673.365, 0.05);
  EXPECT_GT(f_ill(b[20]), 5e6);
  record("gd_eta0.4", a[20], f_ill(a[20]));
  record("gd_eta0.6", b[20], f_ill(b[20]));
}

TEST(OptimExperiment, MomentumOnIllConditionedQuadraticConverges) {
  OptimizerOptions o = lr_only(0.6);  // the learning rate at which GD diverges
  o.momentum = 0.5;
  const std::vector<Point> a = trajectory("momentum", o, {-5, -2}, g_ill, 20);
  // Measured (float) and double: (0.007188, 0.002553), f = 1.82e-5.
  EXPECT_NEAR(a[20][0], 0.0071879, 2e-5);
  EXPECT_NEAR(a[20][1], 0.0025533, 2e-5);
  EXPECT_LT(f_ill(a[20]), 3e-5);
  o.momentum = 0.25;
  const std::vector<Point> b = trajectory("momentum", o, {-5, -2}, g_ill, 20);
  EXPECT_NEAR(b[20][0], -0.126340, 2e-5);  // f = 0.0713: converging, more slowly
  EXPECT_NEAR(b[20][1], -0.186632, 2e-5);
  EXPECT_LT(f_ill(b[20]), 0.08);
  record("momentum_eta0.6_beta0.5", a[20], f_ill(a[20]));
  record("momentum_eta0.6_beta0.25", b[20], f_ill(b[20]));
}

TEST(OptimExperiment, AdagradOnIllConditionedQuadratic) {
  // eta 0.4: the learning rate decays too fast, (-2.382563, -0.158591), f = 0.618.
  const std::vector<Point> a = trajectory("adagrad", lr_only(0.4), {-5, -2}, g_ill, 20);
  EXPECT_NEAR(a[20][0], -2.382563, 2e-5);
  EXPECT_NEAR(a[20][1], -0.158591, 2e-5);
  EXPECT_NEAR(f_ill(a[20]), 0.61796, 1e-4);
  // eta 2: (-0.002295, ~1e-162 -> 0 in float), f = 5.3e-7.
  const std::vector<Point> b = trajectory("adagrad", lr_only(2.0), {-5, -2}, g_ill, 20);
  EXPECT_NEAR(b[20][0], -0.0022953, 2e-6);
  EXPECT_LT(std::abs(b[20][1]), 1e-30);
  EXPECT_LT(f_ill(b[20]), 1e-6);
  for (int t = 1; t <= 20; ++t) EXPECT_LT(f_ill(b[t]), f_ill(b[t - 1])) << "t " << t;
  record("adagrad_eta0.4", a[20], f_ill(a[20]));
  record("adagrad_eta2", b[20], f_ill(b[20]));
}

TEST(OptimExperiment, RmspropOnIllConditionedQuadraticConverges) {
  OptimizerOptions o = lr_only(0.4);
  o.gamma = 0.9;
  const std::vector<Point> p = trajectory("rmsprop", o, {-5, -2}, g_ill, 20);
  // (-0.010599, 1e-14), f = 1.12e-5.
  EXPECT_NEAR(p[20][0], -0.0105987, 2e-6);
  EXPECT_LT(std::abs(p[20][1]), 1e-6);
  EXPECT_LT(f_ill(p[20]), 2e-5);
  record("rmsprop_eta0.4_gamma0.9", p[20], f_ill(p[20]));
}

TEST(OptimExperiment, GdOnParabola) {
  // f = x^2 from 10, 10 steps: x *= 1 - 2 eta.
  for (const double eta : {0.2, 0.05, 1.1}) {
    SCOPED_TRACE("eta " + std::to_string(eta));
    const std::vector<Point> p = trajectory("sgd", lr_only(eta), {10}, g_square, 10);
    for (int t = 0; t <= 10; ++t) {
      const double want = 10.0 * std::pow(1.0 - 2.0 * eta, t);
      EXPECT_NEAR(p[t][0], want, 1e-5 * std::abs(want)) << "t " << t;
    }
    record("parabola_eta" + std::to_string(eta), p[10], p[10][0] * p[10][0]);
  }
  EXPECT_NEAR(trajectory("sgd", lr_only(0.2), {10}, g_square, 10)[10][0], 0.0604662, 1e-6);
  EXPECT_NEAR(trajectory("sgd", lr_only(0.05), {10}, g_square, 10)[10][0], 3.486784, 1e-4);
  const std::vector<Point> d = trajectory("sgd", lr_only(1.1), {10}, g_square, 10);
  EXPECT_NEAR(d[10][0], 61.91736, 1e-3);  // |x| grows by 1.2 per step
  for (int t = 1; t <= 10; ++t) EXPECT_GT(std::abs(d[t][0]), std::abs(d[t - 1][0]));
}

TEST(OptimExperiment, GdOnNonConvexFunctionStopsInLocalMinimum) {
  // f(x) = x cos(c x), c = 0.15 pi, eta 2 from 10: x oscillates around the local minimum near
  // -1.8 (f ~ -1.19) and ends at -1.528166 (d2l prints the same), while f(7.3) = -6.98 near the
  // global minimum on [-10, 10] is never reached.
  const double c = 0.15 * M_PI;
  const auto f = [c](double x) { return x * std::cos(c * x); };
  const auto g = [c](const Point& x) {
    return Point{std::cos(c * x[0]) - c * x[0] * std::sin(c * x[0])};
  };
  const std::vector<Point> p = trajectory("sgd", lr_only(2.0), {10}, g, 10);
  EXPECT_NEAR(p[1][0], 0.575222, 1e-5);
  for (int t = 2; t <= 10; ++t) {
    EXPECT_GT(p[t][0], -2.3) << "t " << t;
    EXPECT_LT(p[t][0], -1.2) << "t " << t;
  }
  EXPECT_NEAR(p[10][0], -1.528166, 1e-4);
  EXPECT_NEAR(f(p[10][0]), -1.14875, 1e-4);
  EXPECT_GT(f(p[10][0]), f(7.3) + 5.0);
  record("xcos_eta2", p[10], f(p[10][0]));
}

}  // namespace
}  // namespace cutrain
