// The CPU twin of the fused bias + activation kernels (channel_bias_activation.h) against an
// independent double-precision reference. The twin is what the GPU tests trust, and the CPU
// layers do not call it (they apply bias and activation as separate steps), so without this
// test a wrong derivative in the twin would be copied by the kernel and go unnoticed.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <vector>

#include "channel_bias_activation.h"
#include "cutrain/rng.h"

namespace cutrain::kernels {
namespace {

constexpr float kPoison = -777.0f;

struct Case {
  Activation act;
  ChannelDims d;
};

double act_ref(Activation a, double v) {
  return a == Activation::ReLU ? (v > 0 ? v : 0) : 1 / (1 + std::exp(-v));
}
// Derivative at the pre-activation v, not from the output: an independent formula.
double dact_ref(Activation a, double v) {
  if (a == Activation::ReLU) return v > 0 ? 1.0 : 0.0;
  const double s = 1 / (1 + std::exp(-v));
  return s * (1 - s);
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.act == Activation::ReLU ? "relu" : "sigmoid") << " n=" << c.d.n << " c=" << c.d.channels
      << " hw=" << c.d.hw << " stride=" << c.d.stride;
}

class ChannelBiasActivation : public ::testing::TestWithParam<Case> {};

TEST_P(ChannelBiasActivation, TwinMatchesTheDefinition) {
  const auto [a, d] = GetParam();
  const int64_t total = d.n * d.stride;
  Rng rng(11 + d.channels);
  std::vector<float> pre(total, kPoison), bias(d.channels), dy(total, kPoison);
  for (auto& b : bias) b = rng.uniform(-1.0f, 1.0f);
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t k = 0; k < d.channels * d.hw; ++k) {
      pre[i * d.stride + k] = rng.normal();
      dy[i * d.stride + k] = rng.normal();
    }
  // Some pre-activations exactly cancel the bias: relu's output is then 0 and its gradient 0.
  for (int64_t c = 0; c < d.channels; ++c) pre[c * d.hw] = -bias[c];

  std::vector<float> y = pre;
  bias_activation_forward_cpu(a, d, bias.data(), y.data());
  std::vector<float> g(total, kPoison), db(d.channels, kPoison);
  activation_bias_backward_cpu(a, d, y.data(), dy.data(), g.data(), db.data());

  double max_y = 0, max_db = 0;
  std::vector<double> db_ref(d.channels, 0.0);
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t c = 0; c < d.channels; ++c)
      for (int64_t j = 0; j < d.hw; ++j) {
        const int64_t k = i * d.stride + c * d.hw + j;
        const double v = static_cast<double>(pre[k]) + bias[c];
        ASSERT_NEAR(y[k], act_ref(a, v), 1e-6 * (1 + std::fabs(v))) << "y at " << k;
        const double gk = dact_ref(a, v) * dy[k];
        ASSERT_NEAR(g[k], gk, 1e-6 * (1 + std::fabs(dy[k]))) << "g at " << k;
        db_ref[c] += gk;
        max_y = std::max(max_y, std::fabs(act_ref(a, v)));
      }
  for (int64_t c = 0; c < d.channels; ++c) {
    EXPECT_NEAR(db[c], db_ref[c], 1e-5 * (1 + std::fabs(db_ref[c]))) << "db[" << c << "]";
    max_db = std::max(max_db, std::fabs(db_ref[c]));
  }
  EXPECT_GT(max_y, 0.1);  // the case has non-trivial values to compare
  EXPECT_GT(max_db, 1e-3);
  // The gap between images (a channel slice of a wider buffer) is neither read nor written.
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t k = d.channels * d.hw; k < d.stride; ++k) {
      EXPECT_EQ(y[i * d.stride + k], kPoison);
      EXPECT_EQ(g[i * d.stride + k], kPoison);
    }
}

TEST(ChannelBiasActivationInPlace, GradientMayOverwriteDy) {
  const ChannelDims d{3, 2, 5, 10};
  Rng rng(5);
  std::vector<float> y(30), dy(30), bias{0.3f, -0.2f};
  for (auto& v : y) v = rng.normal();
  for (auto& v : dy) v = rng.normal();
  bias_activation_forward_cpu(Activation::Sigmoid, d, bias.data(), y.data());
  std::vector<float> g(30), db(2), db_inplace(2), inplace = dy;
  activation_bias_backward_cpu(Activation::Sigmoid, d, y.data(), dy.data(), g.data(), db.data());
  activation_bias_backward_cpu(Activation::Sigmoid, d, y.data(), inplace.data(), inplace.data(),
                               db_inplace.data());
  EXPECT_EQ(g, inplace);
  EXPECT_EQ(db, db_inplace);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ChannelBiasActivation,
    ::testing::Values(Case{Activation::ReLU, {4, 3, 25, 75}},
                      Case{Activation::Sigmoid, {4, 3, 25, 75}},
                      Case{Activation::ReLU, {2, 5, 1, 9}},      // H*W = 1, slice of 9 channels
                      Case{Activation::Sigmoid, {3, 2, 7, 20}},  // slice: 6 floats of gap
                      Case{Activation::ReLU, {64, 6, 49, 6 * 49}}),
    [](const auto& info) {
      const Case& c = info.param;
      return std::string(c.act == Activation::ReLU ? "relu" : "sigmoid") + "_n" +
             std::to_string(c.d.n) + "_c" + std::to_string(c.d.channels) + "_hw" +
             std::to_string(c.d.hw) + "_stride" + std::to_string(c.d.stride);
    });

}  // namespace
}  // namespace cutrain::kernels
