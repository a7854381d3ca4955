// Trajectories of the optimizer lab: the runner steps the engine's real optimizers, so the
// first steps must equal the update rules worked by hand, and the runs of
// shared/reference/experiments.md must converge or diverge where the book's do.
#include <gtest/gtest.h>

#include <cmath>

#include "cutrain/error.h"
#include "cutrain/lab/trace.h"

namespace cutrain::lab {
namespace {

Trace run(const std::string& function, const std::string& optimizer, double lr, int64_t steps,
          void (*set)(TraceOptions&) = nullptr) {
  TraceOptions o;
  o.optimizer = optimizer;
  o.optim.lr = lr;
  o.steps = steps;
  if (set) set(o);
  return run_trace(make_objective(function), o);
}

void expect_point(const TraceStep& s, double x1, double x2, double tol = 1e-5) {
  EXPECT_NEAR(s.x[0], x1, tol * (1 + std::abs(x1))) << "step " << s.step;
  EXPECT_NEAR(s.x[1], x2, tol * (1 + std::abs(x2))) << "step " << s.step;
}

TEST(LabTrace, GdOnQuadraticFirstStepsByHand) {
  // f = x1^2 + 2 x2^2, grad (2 x1, 4 x2), eta 0.1: x1 *= 0.8, x2 *= 0.6.
  const Trace t = run("quadratic2d", "sgd", 0.1, 3);
  ASSERT_EQ(t.steps.size(), 4u);
  EXPECT_TRUE(t.engine_optimizer);
  expect_point(t.steps[0], -5.0, -2.0);
  expect_point(t.steps[1], -4.0, -1.2);
  expect_point(t.steps[2], -3.2, -0.72);
  expect_point(t.steps[3], -2.56, -0.432);
  EXPECT_NEAR(t.steps[0].f, 33.0, 1e-9);
  EXPECT_NEAR(t.steps[1].f, 18.88, 1e-5);
  EXPECT_NEAR(t.steps[2].f, 11.2768, 1e-5);
  EXPECT_NEAR(t.steps[3].f, 6.926848, 1e-5);
  EXPECT_DOUBLE_EQ(t.steps[1].lr, 0.1);
}

TEST(LabTrace, GdOnQuadraticConvergesAfter20Steps) {
  const Trace t = run("quadratic2d", "sgd", 0.1, 20);
  expect_point(t.steps[20], -5.0 * std::pow(0.8, 20), -2.0 * std::pow(0.6, 20), 1e-4);
  EXPECT_NEAR(t.steps[20].x[0], -0.057646, 1e-5);  // the book: x1 -0.057646, x2 -0.000073
}

TEST(LabTrace, GdOnIllConditionedDivergesInX2AtEta06) {
  const Trace good = run("ill-conditioned", "sgd", 0.4, 20);
  const Trace bad = run("ill-conditioned", "sgd", 0.6, 20);
  EXPECT_NEAR(good.steps[20].x[0], -0.943467, 1e-4);  // slow in x1, done in x2
  EXPECT_LT(std::abs(good.steps[20].x[1]), 1e-4);
  for (size_t s = 1; s < bad.steps.size(); ++s) {
    // x2 *= 1 - 4 eta = -1.4: growing oscillation; x1 *= 0.88 still converges.
    EXPECT_NEAR(bad.steps[s].x[1], -1.4 * bad.steps[s - 1].x[1],
                1e-5 * std::abs(bad.steps[s].x[1]));
    EXPECT_LT(std::abs(bad.steps[s].x[0]), std::abs(bad.steps[s - 1].x[0]));
  }
  EXPECT_NEAR(bad.steps[20].x[1], -1673.365, 0.05);
  EXPECT_GT(bad.steps[20].f, 1e6);
}

TEST(LabTrace, MomentumByHandThenConverges) {
  const Trace t =
      run("ill-conditioned", "momentum", 0.6, 20, [](TraceOptions& o) { o.optim.momentum = 0.5; });
  // g = (0.2 x1, 4 x2); v = beta v + g; x -= eta v.
  expect_point(t.steps[1], -4.4, 2.8);            // v = (-1, -8)
  expect_point(t.steps[2], -3.572, -1.52);        // v = (-1.38, 7.2)
  EXPECT_NEAR(t.steps[20].x[0], 0.007188, 2e-5);  // the book's final point
  EXPECT_NEAR(t.steps[20].x[1], 0.002553, 2e-5);
  const Trace slower =
      run("ill-conditioned", "momentum", 0.6, 20, [](TraceOptions& o) { o.optim.momentum = 0.25; });
  EXPECT_NEAR(slower.steps[20].x[0], -0.126340, 2e-5);
  EXPECT_NEAR(slower.steps[20].x[1], -0.186632, 2e-5);
}

TEST(LabTrace, AdagradByHandThenAsTheBook) {
  const Trace t = run("ill-conditioned", "adagrad", 0.4, 20);
  // s = g^2 = (1, 64); x -= eta g / sqrt(s + 1e-6).
  expect_point(t.steps[1], -5.0 + 0.4 / std::sqrt(1.0 + 1e-6), -2.0 + 3.2 / std::sqrt(64 + 1e-6));
  EXPECT_NEAR(t.steps[20].x[0], -2.382563, 2e-5);  // the rate decays too fast
  EXPECT_NEAR(t.steps[20].x[1], -0.158591, 2e-5);
  const Trace fast = run("ill-conditioned", "adagrad", 2.0, 20);
  EXPECT_NEAR(fast.steps[20].x[0], -0.002295, 2e-6);
  EXPECT_LT(std::abs(fast.steps[20].x[1]), 1e-6);
}

TEST(LabTrace, RmspropByHandThenConverges) {
  const Trace t =
      run("ill-conditioned", "rmsprop", 0.4, 20, [](TraceOptions& o) { o.optim.gamma = 0.9; });
  // s = 0.1 g^2 = (0.1, 6.4); both coordinates move by eta / sqrt(0.1) (+ eps).
  const double step1 = 0.4 * 1.0 / std::sqrt(0.1 + 1e-6), step2 = 0.4 * 8.0 / std::sqrt(6.4 + 1e-6);
  expect_point(t.steps[1], -5.0 + step1, -2.0 + step2);
  EXPECT_NEAR(t.steps[20].x[0], -0.010599, 2e-5);
  EXPECT_LT(std::abs(t.steps[20].x[1]), 1e-5);
  EXPECT_LT(t.steps[20].f, 2e-5);
}

TEST(LabTrace, GdOnSquareIn1D) {
  const double want[] = {0.0604662, 3.486784, 61.917364};
  const double etas[] = {0.2, 0.05, 1.1};
  for (int k = 0; k < 3; ++k) {
    const Trace t = run("square", "sgd", etas[k], 10);
    ASSERT_EQ(t.steps.size(), 11u);
    EXPECT_EQ(t.steps[0].x, (Point{10.0}));
    EXPECT_NEAR(t.steps[1].x[0], 10.0 * (1 - 2 * etas[k]), 1e-5);
    EXPECT_NEAR(t.steps[10].x[0], want[k], 1e-5 * want[k]) << "eta " << etas[k];
  }
  const Trace diverging = run("square", "sgd", 1.1, 10);
  for (size_t s = 1; s < diverging.steps.size(); ++s)
    EXPECT_GT(diverging.steps[s].f, diverging.steps[s - 1].f) << "eta 1.1 must diverge";
}

TEST(LabTrace, GdOnXcosStopsInTheLocalMinimum) {
  const Trace t = run("xcos", "sgd", 2.0, 10);
  EXPECT_NEAR(t.steps[10].x[0], -1.528165, 1e-4);  // the book's value
  EXPECT_GT(t.steps[10].f, -2.0);                  // far above the global minimum near 7.3
}

TEST(LabTrace, NewtonOnCoshConvergesToZero) {
  TraceOptions o;
  o.optimizer = kNewton;
  o.steps = 10;
  const Trace t = run_trace(make_objective("cosh"), o);  // eta defaults to 1
  EXPECT_FALSE(t.engine_optimizer);
  EXPECT_NE(t.description.find("not an engine optimizer"), std::string::npos) << t.description;
  // x -= f'/f'' = 2 tanh(x / 2).
  EXPECT_NEAR(t.steps[1].x[0], 10.0 - 2.0 * std::tanh(5.0), 1e-5);
  EXPECT_NEAR(t.steps[2].x[0], t.steps[1].x[0] - 2.0 * std::tanh(t.steps[1].x[0] / 2), 1e-5);
  EXPECT_LT(std::abs(t.steps[10].x[0]), 1e-6);
}

TEST(LabTrace, NewtonOnXcosGoesWhereTheBookSays) {
  TraceOptions o;
  o.optimizer = kNewton;
  o.steps = 10;
  o.optim.lr = 1.0;
  EXPECT_NEAR(run_trace(make_objective("xcos"), o).steps[10].x[0], 26.8341, 1e-3);
  o.optim.lr = 0.5;
  EXPECT_NEAR(run_trace(make_objective("xcos"), o).steps[10].x[0], 7.2699, 1e-3);
}

TEST(LabTrace, NoiseIsReproducibleFromTheSeed) {
  auto noisy = [](uint64_t seed) {
    TraceOptions o;
    o.optim.lr = 0.1;
    o.steps = 50;
    o.noise = 1.0;
    o.seed = seed;
    return run_trace(make_objective("quadratic2d"), o);
  };
  const Trace a = noisy(7), b = noisy(7), c = noisy(8);
  const Trace clean = run("quadratic2d", "sgd", 0.1, 50);
  for (size_t s = 0; s < a.steps.size(); ++s) EXPECT_EQ(a.steps[s].x, b.steps[s].x);
  EXPECT_NE(a.steps[50].x, c.steps[50].x);
  EXPECT_NE(a.steps[1].x, clean.steps[1].x);
  // Constant eta: the iterate keeps jittering around the minimum at a distance set by sigma.
  EXPECT_LT(a.steps[50].f, 5.0);
  EXPECT_GT(std::abs(a.steps[50].x[0]) + std::abs(a.steps[50].x[1]), 1e-3);
}

TEST(LabTrace, ScheduleSetsTheRateOfEachStep) {
  TraceOptions o;
  o.optim.lr = 0.1;
  o.steps = 2;
  o.lr_schedule = "exponential:k=0.1";
  const Trace t = run_trace(make_objective("quadratic2d"), o);
  EXPECT_DOUBLE_EQ(t.steps[1].lr, 0.1);
  EXPECT_NEAR(t.steps[2].lr, 0.1 * std::exp(-0.1), 1e-12);
  EXPECT_NEAR(t.steps[2].x[0], -4.0 + 0.1 * std::exp(-0.1) * 8.0, 1e-5);
}

TEST(LabTrace, BadOptionsAreConfigErrors) {
  TraceOptions o;
  o.optimizer = "lbfgs";
  EXPECT_THROW(run_trace(make_objective("square"), o), ConfigError);
  o.optimizer = "sgd";
  o.start = {1.0, 2.0};
  EXPECT_THROW(run_trace(make_objective("square"), o), ConfigError);
  o.start = {};
  o.noise = -1.0;
  EXPECT_THROW(run_trace(make_objective("square"), o), ConfigError);
  o.noise = 0.0;
  o.lr_schedule = "wobbly";
  EXPECT_THROW(run_trace(make_objective("square"), o), ConfigError);
}

}  // namespace
}  // namespace cutrain::lab
