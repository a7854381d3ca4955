// Linear regression in the optimizer lab: the squared loss by hand, one GD step by hand, known
// weights recovered from generated data, the airfoil loader's checks and messages, and (when
// the shared copy of the data is present) the book's final loss on the real data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "cutrain/error.h"
#include "cutrain/lab/airfoil.h"
#include "cutrain/lab/regression.h"
#include "cutrain/rng.h"
#include "support/temp_dir.h"

namespace cutrain::lab {
namespace {

using test::Contains;

constexpr const char* kSharedAirfoil = "/work/shared/data/airfoil_self_noise.dat";

// y = x w + b + noise, x ~ N(0, 1).
RegressionData linear_data(int64_t count, const std::vector<float>& w, float b, float noise,
                           uint64_t seed) {
  Rng rng(seed);
  RegressionData d;
  d.count = count;
  d.features = static_cast<int64_t>(w.size());
  for (int64_t i = 0; i < count; ++i) {
    double y = b;
    for (float wj : w) {
      const float x = rng.normal();
      d.x.push_back(x);
      y += wj * x;
    }
    d.y.push_back(static_cast<float>(y + noise * rng.normal()));
  }
  return d;
}

TEST(LabRegression, SquaredLossByHand) {
  const float y_hat[] = {1.0f, 2.0f, -1.0f}, y[] = {0.0f, 0.0f, 1.0f};
  float dy[3];
  EXPECT_DOUBLE_EQ(squared_loss(y_hat, y, 3, dy), (0.5 + 2.0 + 2.0) / 3.0);
  EXPECT_FLOAT_EQ(dy[0], 1.0f / 3);
  EXPECT_FLOAT_EQ(dy[1], 2.0f / 3);
  EXPECT_FLOAT_EQ(dy[2], -2.0f / 3);
}

TEST(LabRegression, OneGradientDescentStepByHand) {
  // w = 0, b = 0, one full batch: grad_w = -X^T y / n, grad_b = -mean(y).
  RegressionData d;
  d.count = 2;
  d.features = 2;
  d.x = {1.0f, 2.0f, 3.0f, -1.0f};
  d.y = {1.0f, 2.0f};
  RegressionOptions o;
  o.optim.lr = 0.5;
  o.batch_size = 2;
  o.epochs = 1;
  o.init_std = 0.0;
  const RegressionResult r = run_regression(d, o);
  ASSERT_EQ(r.weight.size(), 2u);
  EXPECT_NEAR(r.weight[0], 0.5 * (1 * 1 + 3 * 2) / 2.0, 1e-6);
  EXPECT_NEAR(r.weight[1], 0.5 * (2 * 1 - 1 * 2) / 2.0, 1e-6);
  EXPECT_NEAR(r.bias, 0.5 * 1.5, 1e-6);
  // Final loss with w = (1.75, 0), b = 0.75: predictions 2.5, 6, residuals 1.5, 4.
  EXPECT_NEAR(r.final_loss, (0.5 * 2.25 + 0.5 * 16.0) / 2, 1e-5);
}

TEST(LabRegression, RecoversKnownWeights) {
  const std::vector<float> w = {1.5f, -2.0f, 0.5f, 0.0f, 3.0f};
  const RegressionData d = linear_data(1000, w, -0.7f, 0.01f, 3);
  for (const char* name : {"sgd", "momentum", "adam"}) {
    RegressionOptions o;
    o.optimizer = name;
    o.optim.lr = 0.05;
    o.batch_size = 10;
    o.epochs = 5;
    o.seed = 1;
    const RegressionResult r = run_regression(d, o);
    for (size_t j = 0; j < w.size(); ++j)
      EXPECT_NEAR(r.weight[j], w[j], 0.02) << name << " weight " << j;
    EXPECT_NEAR(r.bias, -0.7f, 0.02) << name;
    EXPECT_LT(r.final_loss, 1e-3) << name;
    // Evaluated every 200 examples: 5 per epoch.
    ASSERT_EQ(r.curve.size(), 25u) << name;
    EXPECT_NEAR(r.curve.front().epoch, 0.2, 1e-12);
    EXPECT_NEAR(r.curve.back().epoch, 5.0, 1e-12);
    EXPECT_LT(r.curve.back().loss, r.curve.front().loss);
  }
}

TEST(LabRegression, SameSeedSameCurve) {
  const RegressionData d = linear_data(300, {1.0f, 2.0f}, 0.0f, 0.5f, 9);
  RegressionOptions o;
  o.optim.lr = 0.05;
  const RegressionResult a = run_regression(d, o), b = run_regression(d, o);
  ASSERT_EQ(a.curve.size(), b.curve.size());
  for (size_t i = 0; i < a.curve.size(); ++i) EXPECT_EQ(a.curve[i].loss, b.curve[i].loss);
  o.seed = 5;
  EXPECT_NE(run_regression(d, o).curve.front().loss, a.curve.front().loss);
}

TEST(LabRegression, BookListIsTheBooks) {
  const std::vector<RegressionRun> runs = book_regression_runs(2, 0);
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(runs[0].options.batch_size, 1500);
  EXPECT_EQ(*runs[0].options.optim.lr, 1.0);
  EXPECT_EQ(runs[1].options.batch_size, 1);
  EXPECT_EQ(runs[5].options.optimizer, "momentum");
  EXPECT_EQ(runs[5].options.optim.momentum, 0.9);
  EXPECT_EQ(runs[9].options.optimizer, "adadelta");
  EXPECT_EQ(runs[9].options.optim.rho, 0.9);
  EXPECT_EQ(runs[11].options.optimizer, "yogi");
  for (size_t k = 0; k < runs.size(); ++k) {
    EXPECT_EQ(runs[k].options.epochs, 2) << k;
    EXPECT_EQ(runs[k].options.batch_size, k == 0 ? 1500 : k == 1 ? 1 : k == 3 ? 100 : 10) << k;
  }
}

class AirfoilFile : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const std::string path = dir_.file("airfoil.dat");
    std::ofstream(path) << text;
    return path;
  }
  // n rows in the airfoil layout, every column varying.
  static std::string rows(int n, const char* eol = "\n") {
    std::string s;
    for (int i = 0; i < n; ++i)
      s += std::to_string(800 + 10 * i) + "\t" + std::to_string(i % 7) + "\t0." +
           std::to_string(1000 + i % 5) + "\t" + std::to_string(30 + i % 3) + "\t0.00" +
           std::to_string(10 + i % 4) + "\t" + std::to_string(120 + 0.1 * i * i) + eol;
    return s;
  }
  test::TempDir dir_;
};

TEST_F(AirfoilFile, MissingFileSaysWhereToGetIt) {
  const std::string msg =
      test::data_error_message([&] { load_airfoil(dir_.file("nope.dat"), 1500); });
  EXPECT_TRUE(Contains(msg, dir_.file("nope.dat")));
  EXPECT_TRUE(Contains(msg, "Airfoil Self-Noise"));
  EXPECT_TRUE(Contains(msg, "archive.ics.uci.edu"));
  EXPECT_TRUE(Contains(msg, "airfoil_self_noise.dat"));
}

TEST_F(AirfoilFile, NonNumericFieldNamesFileAndLine) {
  const std::string path = write(rows(2) + "800\t0\tabc\t71.3\t0.0026\t126.2\n" + rows(3));
  const std::string msg = test::data_error_message([&] { load_airfoil(path, 4); });
  EXPECT_TRUE(Contains(msg, path + ":3:"));
  EXPECT_TRUE(Contains(msg, "field 3 'abc'"));
}

TEST_F(AirfoilFile, WrongColumnCountNamesTheLine) {
  const std::string few = write(rows(4) + "800\t0\t0.3\t71.3\t0.0026\n");
  EXPECT_TRUE(Contains(test::data_error_message([&] { load_airfoil(few, 5); }),
                       few + ":5: expected 6 tab-separated numbers, got 5"));
  const std::string many = write("1\t2\t3\t4\t5\t6\t7\n" + rows(4));
  EXPECT_TRUE(Contains(test::data_error_message([&] { load_airfoil(many, 5); }),
                       many + ":1: expected 6 tab-separated numbers, got more"));
}

TEST_F(AirfoilFile, TooFewRows) {
  const std::string path = write(rows(12));
  const std::string msg = test::data_error_message([&] { load_airfoil(path, 1500); });
  EXPECT_TRUE(Contains(msg, path));
  EXPECT_TRUE(Contains(msg, "12 rows"));
  EXPECT_TRUE(Contains(msg, "1500"));
}

TEST_F(AirfoilFile, StandardisesEveryColumnAndAcceptsCrlf) {
  const std::string path = write(rows(40, "\r\n") + "\r\n");
  const RegressionData d = load_airfoil(path, 40);
  ASSERT_EQ(d.count, 40);
  ASSERT_EQ(d.features, 5);
  for (int c = 0; c < 6; ++c) {
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < d.count; ++i) {
      const double v = c < 5 ? d.x[i * 5 + c] : d.y[i];
      sum += v, sq += v * v;
    }
    EXPECT_NEAR(sum / 40, 0.0, 1e-5) << "column " << c + 1;
    EXPECT_NEAR(sq / 40, 1.0, 1e-5) << "column " << c + 1;  // population variance
  }
  // First rows of a longer file: standardised over the whole file, then cut (as d2l).
  const RegressionData first = load_airfoil(path, 10);
  ASSERT_EQ(first.count, 10);
  EXPECT_EQ(first.y[3], d.y[3]);
}

TEST_F(AirfoilFile, ConstantColumnIsRejected) {
  std::string text;
  for (int i = 0; i < 5; ++i) text += std::to_string(i) + "\t1\t2\t3\t4\t5\n";
  const std::string path = write(text);
  EXPECT_TRUE(Contains(test::data_error_message([&] { load_airfoil(path, 5); }), "column 2"));
}

TEST(LabRegressionAirfoil, BookFinalLossOnTheRealData) {
  if (!std::filesystem::exists(kSharedAirfoil)) GTEST_SKIP() << kSharedAirfoil << " is not present";
  const RegressionData d = load_airfoil(kSharedAirfoil, 1500);
  ASSERT_EQ(d.count, 1500);
  RegressionOptions o;
  o.optim.lr = 0.05;
  o.batch_size = 10;
  o.epochs = 2;
  const RegressionResult r = run_regression(d, o);
  EXPECT_GE(r.final_loss, 0.22);
  EXPECT_LE(r.final_loss, 0.27);
  ASSERT_EQ(r.curve.size(), 15u);  // every 200 examples over 3000
  EXPECT_GT(r.curve.front().loss, r.final_loss);
}

}  // namespace
}  // namespace cutrain::lab
