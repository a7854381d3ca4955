// Every layer's backward against finite differences on the CPU.
#include <gtest/gtest.h>

#include <memory>

#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "support/gradcheck.h"

namespace cutrain {
namespace {

using test::check_layer_gradients;
using test::describe;

using test::random_input;

// Values far from any kink: |x| in [0.1, 1] with a random sign.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  Tensor x(shape, Device::CPU);
  Rng rng(seed);
  for (int64_t i = 0; i < x.numel(); ++i)
    x.data()[i] = (rng.uniform() < 0.5f ? -1.0f : 1.0f) * rng.uniform(0.1f, 1.0f);
  return x;
}

// Distinct values 0.05 apart in random order: every pooling window has a clear maximum.
Tensor distinct_values(const Shape& shape, uint64_t seed) {
  Tensor x(shape, Device::CPU);
  std::vector<int64_t> order(static_cast<size_t>(x.numel()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  Rng rng(seed);
  for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 0.05f * static_cast<float>(order[i]);
  return x;
}

void expect_gradients_match(Layer& layer, Tensor x, uint64_t seed = 3) {
  Rng rng(seed);
  const Shape y_shape = layer.build(x.shape(), Device::CPU, rng);
  const auto bad = check_layer_gradients(layer, x, y_shape);
  EXPECT_TRUE(bad.empty()) << describe(bad);
}

TEST(LayerGradients, Linear) {
  Linear layer(7, 5);
  expect_gradients_match(layer, random_input({3, 7}, 1));
}

TEST(LayerGradients, LinearSingleExample) {
  Linear layer(4, 9);
  expect_gradients_match(layer, random_input({1, 4}, 2));
}

struct ConvCase {
  Conv2dOptions options;
  Shape input;
};

class ConvGradients : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradients, MatchFiniteDifferences) {
  Conv2d layer(GetParam().options);
  expect_gradients_match(layer, random_input(GetParam().input, 4));
}

INSTANTIATE_TEST_SUITE_P(
    LayerGradients, ConvGradients,
    ::testing::Values(ConvCase{{2, 3, 3, 1, 1}, {2, 2, 5, 5}},  // same padding
                      ConvCase{{1, 6, 5, 1, 2}, {1, 1, 8, 8}},  // LeNet's first layer
                      ConvCase{{3, 4, 3, 2, 1}, {2, 3, 7, 7}},  // stride 2, odd size
                      ConvCase{{2, 2, 2, 2, 0}, {1, 2, 5, 6}},  // non-square, rows left over
                      ConvCase{{4, 1, 1, 1, 0}, {2, 4, 3, 3}}));  // 1x1

TEST(LayerGradients, MaxPoolDisjointWindows) {
  Pool2d layer(PoolMode::Max, 2, 2);
  expect_gradients_match(layer, distinct_values({2, 3, 4, 4}, 5));
}

TEST(LayerGradients, MaxPoolOverlappingWindows) {
  Pool2d layer(PoolMode::Max, 3, 2);
  expect_gradients_match(layer, distinct_values({1, 2, 7, 7}, 6));
}

TEST(LayerGradients, AvgPoolDisjointWindows) {
  Pool2d layer(PoolMode::Average, 2, 2);
  expect_gradients_match(layer, random_input({2, 3, 4, 6}, 7));
}

TEST(LayerGradients, AvgPoolOverlappingWindows) {
  Pool2d layer(PoolMode::Average, 3, 1);
  expect_gradients_match(layer, random_input({1, 2, 5, 5}, 8));
}

TEST(LayerGradients, ReLU) {
  ActivationLayer layer(ActivationKind::ReLU);
  expect_gradients_match(layer, away_from_zero({3, 11}, 9));
}

TEST(LayerGradients, Sigmoid) {
  ActivationLayer layer(ActivationKind::Sigmoid);
  expect_gradients_match(layer, random_input({3, 11}, 10, -4.0f, 4.0f));
}

// The checker itself must be able to fail: a layer whose backward doubles dx is caught, and
// the message names the tensor and the index.
class WrongBackward final : public Layer {
 public:
  std::string kind() const override { return "wrong"; }
  Shape build(const Shape& in, Device, Rng&) override { return in; }
  void forward(const Tensor& x, Tensor& y, Context&) override { y.copy_from(x); }
  void backward(const Tensor&, const Tensor&, const Tensor& dy, Tensor* dx, Context&) override {
    for (int64_t i = 0; i < dy.numel(); ++i) dx->data()[i] = 2.0f * dy.data()[i];
  }
};

TEST(LayerGradients, CheckerDetectsAWrongBackward) {
  WrongBackward layer;
  Tensor x = random_input({2, 3}, 11);
  Rng rng(1);
  const Shape y = layer.build(x.shape(), Device::CPU, rng);
  const auto bad = check_layer_gradients(layer, x, y);
  ASSERT_EQ(bad.size(), 6u);
  EXPECT_NE(describe(bad).find("wrong.input[0]"), std::string::npos) << describe(bad);
}

TEST(LayerShapes, MismatchedInputsAreClearErrors) {
  Rng rng(0);
  Conv2d conv({3, 4, 3, 1, 0});
  try {
    conv.build({2, 1, 8, 8}, Device::CPU, rng);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[N, 3, H, W]"), std::string::npos) << e.what();
  }
  Linear linear(10, 2);
  EXPECT_THROW(linear.build({2, 9}, Device::CPU, rng), ConfigError);
  Conv2d big({1, 1, 5, 1, 0});
  EXPECT_THROW(big.build({1, 1, 4, 4}, Device::CPU, rng), ConfigError);
  Pool2d pool(PoolMode::Max, 3, 3);
  EXPECT_THROW(pool.build({1, 1, 2, 2}, Device::CPU, rng), ConfigError);
  EXPECT_THROW(Conv2d({0, 1, 3, 1, 0}), ConfigError);
}

}  // namespace
}  // namespace cutrain
