// Fused softmax-cross-entropy (CPU twin) against a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cutrain/rng.h"
#include "softmax_ce.h"
#include "softmax_ce_math.h"

namespace cutrain::kernels {
namespace {

struct Reference {
  std::vector<double> loss, grad;
  double hits = 0;
};

// log-sum-exp in long double with the max subtracted: the textbook definition.
Reference reference(const std::vector<float>& z, const std::vector<float>& labels, int64_t n,
                    int classes) {
  Reference r;
  r.grad.resize(z.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* row = z.data() + i * classes;
    long double m = row[0];
    int arg = 0;
    for (int c = 1; c < classes; ++c)
      if (row[c] > m) m = row[c], arg = c;
    long double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<long double>(row[c]) - m);
    const long double lse = m + std::log(sum);
    const int y = static_cast<int>(labels[i]);
    r.loss.push_back(static_cast<double>(lse - row[y]));
    for (int c = 0; c < classes; ++c)
      r.grad[i * classes + c] =
          static_cast<double>((std::exp(row[c] - lse) - (c == y ? 1.0L : 0.0L)) / n);
    r.hits += arg == y;
  }
  return r;
}

struct Case {
  int64_t n;
  int classes;
  float scale;  // logits ~ U(-scale, scale)
};

class SoftmaxCe : public ::testing::TestWithParam<Case> {};

TEST_P(SoftmaxCe, MatchesDoubleReference) {
  const auto [n, classes, scale] = GetParam();
  Rng rng(static_cast<uint64_t>(n * 31 + classes));
  std::vector<float> z(static_cast<size_t>(n * classes)), labels(static_cast<size_t>(n));
  for (float& v : z) v = rng.uniform(-scale, scale);
  for (float& y : labels) y = static_cast<float>(rng.below(static_cast<uint64_t>(classes)));
  std::vector<float> dz(z.size(), NAN), scratch(static_cast<size_t>(2 * n), NAN);
  float sums[2] = {NAN, NAN};
  softmax_ce_cpu(z.data(), labels.data(), n, classes, 1.0f / static_cast<float>(n), dz.data(),
                 scratch.data(), sums);

  const Reference ref = reference(z, labels, n, classes);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += ref.loss[i];
    ASSERT_NEAR(scratch[i], ref.loss[i], 1e-5 + 1e-5 * std::abs(ref.loss[i])) << "row " << i;
  }
  for (size_t k = 0; k < dz.size(); ++k)
    ASSERT_NEAR(dz[k], ref.grad[k], 1e-7 + 1e-5 * std::abs(ref.grad[k])) << "element " << k;
  EXPECT_NEAR(sums[0], total, 1e-5 * std::abs(total) + 1e-5);
  EXPECT_EQ(sums[1], ref.hits);
  for (float v : dz) EXPECT_TRUE(std::isfinite(v));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SoftmaxCe,
                         ::testing::Values(Case{1, 10, 3.0f}, Case{7, 3, 1.0f},
                                           Case{256, 10, 5.0f}, Case{33, 10, 1e4f},
                                           Case{5, 2, 80.0f}));

// With logits in the thousands a naive exp() overflows; the fused op must not.
TEST(SoftmaxCeStability, HugeLogitsGiveExactLossAndGradient) {
  const std::vector<float> z = {10000.0f, 9990.0f, -10000.0f, 0.0f};
  const std::vector<float> labels = {1.0f};
  std::vector<float> dz(4), scratch(2);
  float sums[2];
  softmax_ce_cpu(z.data(), labels.data(), 1, 4, 1.0f, dz.data(), scratch.data(), sums);
  // loss = log(1 + e^10) + 10 - 10 ... = lse - z_1 with lse ~ 10000 + log(1 + e^-10)
  const double expected = 10.0 + std::log1p(std::exp(-10.0));
  EXPECT_NEAR(sums[0], expected, 1e-3);
  EXPECT_EQ(sums[1], 0.0f);  // predicted class 0, label 1
  EXPECT_NEAR(dz[0], 1.0 / (1.0 + std::exp(-10.0)), 1e-6);
  EXPECT_NEAR(dz[1], std::exp(-10.0) / (1.0 + std::exp(-10.0)) - 1.0, 1e-6);
  EXPECT_EQ(dz[2], 0.0f);
  EXPECT_EQ(dz[3], 0.0f);
}

TEST(SoftmaxCeStability, TiesPredictTheFirstMaximum) {
  const std::vector<float> z = {2.0f, 5.0f, 5.0f};
  std::vector<float> labels = {1.0f}, scratch(2);
  float sums[2];
  softmax_ce_cpu(z.data(), labels.data(), 1, 3, 1.0f, nullptr, scratch.data(), sums);
  EXPECT_EQ(sums[1], 1.0f);
  labels[0] = 2.0f;
  softmax_ce_cpu(z.data(), labels.data(), 1, 3, 1.0f, nullptr, scratch.data(), sums);
  EXPECT_EQ(sums[1], 0.0f);
}

TEST(SoftmaxCeStability, GradientMatchesFiniteDifferencesOfTheMeanLoss) {
  const int64_t n = 4;
  const int classes = 5;
  Rng rng(9);
  std::vector<float> z(n * classes), labels = {0.0f, 4.0f, 2.0f, 2.0f}, dz(z.size()), scratch(8);
  for (float& v : z) v = rng.uniform(-2.0f, 2.0f);
  float sums[2];
  softmax_ce_cpu(z.data(), labels.data(), n, classes, 1.0f / n, dz.data(), scratch.data(), sums);
  const float eps = 1e-2f;
  for (size_t k = 0; k < z.size(); ++k) {
    const float saved = z[k];
    z[k] = saved + eps;
    softmax_ce_cpu(z.data(), labels.data(), n, classes, 1.0f, nullptr, scratch.data(), sums);
    const double plus = sums[0];
    z[k] = saved - eps;
    softmax_ce_cpu(z.data(), labels.data(), n, classes, 1.0f, nullptr, scratch.data(), sums);
    const double minus = sums[0];
    z[k] = saved;
    EXPECT_NEAR(dz[k], (plus - minus) / (2 * eps) / n, 2e-4) << "logit " << k;
  }
}

// A label that is not a class index (NaN, negative, too large, fractional past the last class)
// gives a NaN loss and no hit, never a read outside the row: the float->int cast of such a value
// is undefined and differed between the host and the device before label_index.
TEST(SoftmaxCeLabels, InvalidLabelsGiveNaNLossAndNoHit) {
  const int classes = 3;
  const std::vector<float> bad = {NAN, -1.0f, 3.0f, 3.5f, 1e30f, -0.5f};
  for (float label : bad) {
    const std::vector<float> z = {0.5f, -1.0f, 2.0f};
    std::vector<float> dz(3, 0.0f), scratch(2, 0.0f);
    float sums[2] = {0, 0};
    softmax_ce_cpu(z.data(), &label, 1, classes, 1.0f, dz.data(), scratch.data(), sums);
    EXPECT_TRUE(std::isnan(scratch[0])) << "label " << label;
    EXPECT_EQ(sums[1], 0.0f) << "label " << label;
  }
  EXPECT_EQ(label_index(2.0f, classes), 2);
  EXPECT_EQ(label_index(0.0f, classes), 0);
  EXPECT_EQ(label_index(2.999f, classes), 2);
  EXPECT_EQ(label_index(3.0f, classes), -1);
  EXPECT_EQ(label_index(NAN, classes), -1);
}

}  // namespace
}  // namespace cutrain::kernels
