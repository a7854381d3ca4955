// Batch normalization on the CPU: gradients (finite differences and the full Jacobian against
// its closed form), the fused ReLU, statistics against a double-precision reference (also far
// from zero, where E[x^2] - E[x]^2 in float fails), running averages, evaluation mode, errors,
// and LeNet-BN (shapes, and a short training run with the book's lr 1.0).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "batchnorm.h"
#include "cutrain/error.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"
#include "support/gradcheck.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

std::vector<float> normal_values(int64_t n, uint64_t seed, float offset = 0.0f,
                                 float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = offset + scale * rng.normal();
  return v;
}

Tensor normal_input(const Shape& shape, uint64_t seed, float offset = 0.0f, float scale = 1.0f) {
  return Tensor::from_vector(normal_values(numel_of(shape), seed, offset, scale), shape,
                             Device::CPU);
}

// gamma in [0.5, 1.5], beta in [-0.5, 0.5]: the defaults (1, 0) could hide a missing factor.
void randomize_affine(BatchNorm& bn, uint64_t seed) {
  Rng rng(seed);
  std::vector<Parameter> p = bn.parameters();
  for (int64_t i = 0; i < p[0].value->numel(); ++i) {
    p[0].value->data()[i] = rng.uniform(0.5f, 1.5f);
    p[1].value->data()[i] = rng.uniform(-0.5f, 0.5f);
  }
}

std::unique_ptr<BatchNorm> built(std::unique_ptr<BatchNorm> bn, const Shape& shape,
                                 uint64_t seed = 5) {
  Rng rng(0);
  bn->build(shape, Device::CPU, rng);
  randomize_affine(*bn, seed);
  return bn;
}

// Mean and biased variance of channel c of x viewed as [n, channels, s], in double.
struct RefStats {
  double mean = 0.0, var = 0.0;
};
RefStats reference_stats(const Tensor& x, int64_t c) {
  const int64_t n = x.dim(0), channels = x.dim(1), s = x.numel() / (n * channels);
  RefStats r;
  for (int pass = 0; pass < 2; ++pass) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < s; ++j) {
        const double v = x.data()[(i * channels + c) * s + j];
        acc += pass == 0 ? v : (v - r.mean) * (v - r.mean);
      }
    (pass == 0 ? r.mean : r.var) = acc / static_cast<double>(n * s);
  }
  return r;
}

TEST(BatchNormGradients, BatchNorm1dMatchesFiniteDifferences) {
  auto bn = built(BatchNorm1d(4), {6, 4});
  Tensor x = normal_input({6, 4}, 1);
  const auto bad = test::check_layer_gradients(*bn, x, x.shape());
  EXPECT_TRUE(bad.empty()) << test::describe(bad);
}

TEST(BatchNormGradients, BatchNorm2dMatchesFiniteDifferences) {
  auto bn = built(BatchNorm2d(3), {2, 3, 3, 4});
  Tensor x = normal_input({2, 3, 3, 4}, 2);
  const auto bad = test::check_layer_gradients(*bn, x, x.shape());
  EXPECT_TRUE(bad.empty()) << test::describe(bad);
}

TEST(BatchNormGradients, FusedReluMatchesFiniteDifferencesAwayFromTheKink) {
  const Shape shape{4, 2, 2, 3};
  // An input whose normalized values all lie clear of 0 (the ReLU's kink), so that the
  // finite differences never cross it.
  for (uint64_t seed = 10; seed < 200; ++seed) {
    auto plain = built(BatchNorm2d(2), shape, seed);
    Context ctx(Device::CPU);
    Tensor x = normal_input(shape, seed), y(shape, Device::CPU);
    plain->forward(x, y, ctx);
    const std::vector<float> v = y.to_vector();
    if (std::any_of(v.begin(), v.end(), [](float z) { return std::abs(z) < 0.15f; })) continue;
    auto fused = built(BatchNorm2d(2, {0.1, 1e-5, true}), shape, seed);
    EXPECT_EQ(fused->kind(), "batchnorm2d+relu");
    const auto bad = test::check_layer_gradients(*fused, x, shape);
    EXPECT_TRUE(bad.empty()) << test::describe(bad);
    return;
  }
  FAIL() << "no input clear of the kink found";
}

TEST(BatchNormGradients, FullJacobianMatchesClosedFormAndFiniteDifferences) {
  const Shape shape{3, 2, 2, 2};  // M = 12 values per channel, 24 in all
  const int64_t total = numel_of(shape), s = 4, channels = 2, m = 12;
  auto bn = built(BatchNorm2d(2), shape);
  Context ctx(Device::CPU);
  Tensor x = normal_input(shape, 3), y(shape, Device::CPU), dy(shape, Device::CPU),
         dx(shape, Device::CPU);
  const std::vector<float> gamma = bn->parameters()[0].value->to_vector();
  bn->forward(x, y, ctx);
  std::vector<RefStats> ref = {reference_stats(x, 0), reference_stats(x, 1)};
  auto channel = [&](int64_t i) { return (i / s) % channels; };
  auto xhat = [&](int64_t i) {
    const RefStats& r = ref[static_cast<size_t>(channel(i))];
    return (x.data()[i] - r.mean) / std::sqrt(r.var + 1e-5);
  };
  for (int64_t i = 0; i < total; ++i) {  // row i of dy/dx: backward of the unit vector e_i
    dy.zero();
    dy.data()[i] = 1.0f;
    bn->backward(x, y, dy, &dx, ctx);
    for (int64_t j = 0; j < total; ++j) {
      const float got = dx.data()[j];
      if (channel(i) != channel(j)) {
        EXPECT_EQ(got, 0.0f) << "dy" << i << "/dx" << j << " across channels";
        continue;
      }
      // dy_i/dx_j = gamma inv_std / M (M [i == j] - 1 - xhat_i xhat_j)
      const RefStats& r = ref[static_cast<size_t>(channel(i))];
      const double want = gamma[static_cast<size_t>(channel(i))] / std::sqrt(r.var + 1e-5) / m *
                          (m * (i == j ? 1.0 : 0.0) - 1.0 - xhat(i) * xhat(j));
      EXPECT_NEAR(got, want, 1e-5 + 1e-5 * std::abs(want)) << "dy" << i << "/dx" << j;
      const float saved = x.data()[j], eps = 3e-3f;  // central difference of y_i in x_j
      x.data()[j] = saved + eps;
      bn->forward(x, y, ctx);
      const double plus = y.data()[i];
      x.data()[j] = saved - eps;
      bn->forward(x, y, ctx);
      const double minus = y.data()[i];
      x.data()[j] = saved;
      bn->forward(x, y, ctx);  // restores the saved statistics for the next backward
      EXPECT_NEAR(got, (plus - minus) / (2.0 * eps), 1e-3) << "dy" << i << "/dx" << j;
    }
  }
}

TEST(BatchNormFusedRelu, IsReluOfPlainAndBackwardMasksDy) {
  const Shape shape{5, 3, 2, 3};
  auto plain = built(BatchNorm2d(3), shape),
       fused = built(BatchNorm2d(3, {0.1, 1e-5, true}), shape);
  Context ctx(Device::CPU);
  Tensor x = normal_input(shape, 4), dy = normal_input(shape, 5);
  Tensor yp(shape, Device::CPU), yf(shape, Device::CPU), dxp(shape, Device::CPU),
      dxf(shape, Device::CPU), masked(shape, Device::CPU);
  plain->forward(x, yp, ctx);
  fused->forward(x, yf, ctx);
  int64_t zeros = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_EQ(yf.data()[i], std::max(yp.data()[i], 0.0f)) << i;
    masked.data()[i] = yp.data()[i] > 0.0f ? dy.data()[i] : 0.0f;
    zeros += yf.data()[i] == 0.0f;
  }
  EXPECT_GT(zeros, 0);
  plain->backward(x, yp, masked, &dxp, ctx);
  fused->backward(x, yf, dy, &dxf, ctx);
  EXPECT_EQ(dxf.to_vector(), dxp.to_vector());
  for (size_t k = 0; k < 2; ++k)
    EXPECT_EQ(fused->parameters()[k].grad->to_vector(), plain->parameters()[k].grad->to_vector());
}

TEST(BatchNormStatistics, MatchDoublePrecisionEvenFarFromZero) {
  const int64_t n = 8, channels = 3, s = 35, m = n * s;
  for (float offset : {0.0f, 1e4f}) {
    SCOPED_TRACE("x = " + std::to_string(offset) + " + N(0, 1)");
    Tensor x = normal_input({n, channels, s}, 6, offset);
    std::vector<float> gamma = {1.0f, 2.0f, 0.5f}, beta = {0.0f, 1.0f, -1.0f}, y(x.numel());
    std::vector<float> rmean(3, 0.0f), rvar(3, 1.0f), smean(3), sinv(3);
    kernels::BnChannels ch;
    ch.gamma = gamma.data();
    ch.beta = beta.data();
    ch.running_mean = rmean.data();
    ch.running_var = rvar.data();
    ch.save_mean = smean.data();
    ch.save_inv_std = sinv.data();
    kernels::batchnorm_forward_train_cpu({n, channels, s}, {}, ch, x.data(), y.data());
    for (int64_t c = 0; c < channels; ++c) {
      const RefStats r = reference_stats(x, c);
      const double var = 1.0 / (double(sinv[c]) * sinv[c]) - 1e-5;
      EXPECT_NEAR(smean[c], r.mean, 1e-6 + 1e-7 * std::abs(r.mean)) << "channel " << c;
      EXPECT_NEAR(var, r.var, 1e-4 * r.var) << "channel " << c;
      EXPECT_NEAR(rmean[c], 0.1 * r.mean, 1e-6 + 1e-7 * std::abs(r.mean));
      EXPECT_NEAR(rvar[c], 0.9 + 0.1 * r.var * m / (m - 1), 1e-6);
      double ym = 0.0, yv = 0.0;  // y has mean beta and variance gamma^2 var / (var + eps)
      for (int64_t i = 0; i < n * s; ++i) ym += y[(i / s * channels + c) * s + i % s];
      ym /= m;
      for (int64_t i = 0; i < n * s; ++i)
        yv += std::pow(y[(i / s * channels + c) * s + i % s] - ym, 2);
      // The saved float mean is within half an ulp of the true one (~5e-4 near 1e4).
      EXPECT_NEAR(ym, beta[c], 1e-5 + gamma[c] * 6e-8 * std::abs(r.mean) / std::sqrt(r.var));
      EXPECT_NEAR(yv / m, gamma[c] * gamma[c] * r.var / (r.var + 1e-5), 1e-4);
      if (offset == 0.0f) continue;
      // The data is hard: E[x^2] - E[x]^2 in float misses the variance by far more than 1e-3.
      float sum = 0.0f, sum_sq = 0.0f;
      for (int64_t i = 0; i < n * s; ++i) {
        const float v = x.data()[(i / s * channels + c) * s + i % s];
        sum += v;
        sum_sq += v * v;
      }
      const float naive = sum_sq / m - (sum / m) * (sum / m);
      EXPECT_GT(std::abs(naive - r.var) / r.var, 1e-2) << "naive float variance " << naive;
    }
  }
}

TEST(BatchNormStatistics, RunningAveragesFollowTheFormulaOverSteps) {
  const double momentum = 0.3;
  auto bn = built(BatchNorm2d(3, {momentum, 1e-5, false}), {6, 3, 4, 5});
  Context ctx(Device::CPU);
  std::vector<double> rm(3, 0.0), rv(3, 1.0);
  const std::vector<int64_t> batches = {6, 4, 6, 2};
  for (size_t step = 0; step < batches.size(); ++step) {
    Tensor x = normal_input({batches[step], 3, 4, 5}, 20 + step, 0.5f * step, 1.0f + step);
    Tensor y(x.shape(), Device::CPU);
    bn->forward(x, y, ctx);
    const std::vector<NamedTensor> buf = bn->buffers();
    ASSERT_EQ(buf[0].name, "running_mean");
    ASSERT_EQ(buf[1].name, "running_var");
    const double m = static_cast<double>(batches[step] * 20);
    for (int64_t c = 0; c < 3; ++c) {
      const RefStats r = reference_stats(x, c);
      rm[c] = (1 - momentum) * rm[c] + momentum * r.mean;
      rv[c] = (1 - momentum) * rv[c] + momentum * r.var * m / (m - 1);
      EXPECT_NEAR(buf[0].tensor->data()[c], rm[c], 1e-5 * (1 + std::abs(rm[c])))
          << "step " << step << " channel " << c;
      EXPECT_NEAR(buf[1].tensor->data()[c], rv[c], 1e-5 * rv[c])
          << "step " << step << " channel " << c;
    }
  }
}

TEST(BatchNormStatistics, CumulativeModeAveragesTheBatchStatisticsSinceItWasTurnedOn) {
  auto bn = built(BatchNorm2d(3), {6, 3, 4, 5});
  Context ctx(Device::CPU);
  for (uint64_t step = 0; step < 2; ++step) {  // running averages away from their start
    Tensor x = normal_input({6, 3, 4, 5}, 50 + step, 5.0f, 2.0f), y(x.shape(), Device::CPU);
    bn->forward(x, y, ctx);
  }
  bn->set_cumulative_statistics(true);
  std::vector<double> sum_mean(3, 0.0), sum_var(3, 0.0);
  const std::vector<int64_t> batches = {6, 4, 6};
  for (size_t k = 0; k < batches.size(); ++k) {
    Tensor x = normal_input({batches[k], 3, 4, 5}, 60 + k, -1.0f + k, 1.0f + 0.5f * k);
    Tensor y(x.shape(), Device::CPU);
    bn->forward(x, y, ctx);
    const double m = static_cast<double>(batches[k] * 20);
    for (int64_t c = 0; c < 3; ++c) {
      const RefStats r = reference_stats(x, c);
      sum_mean[c] += r.mean;
      sum_var[c] += r.var * m / (m - 1);
      const double want_mean = sum_mean[c] / (k + 1), want_var = sum_var[c] / (k + 1);
      EXPECT_NEAR(bn->buffers()[0].tensor->data()[c], want_mean, 1e-5 * (1 + std::abs(want_mean)))
          << "batch " << k << " channel " << c;
      EXPECT_NEAR(bn->buffers()[1].tensor->data()[c], want_var, 1e-5 * want_var)
          << "batch " << k << " channel " << c;
    }
  }
  // Evaluation-mode forwards leave them alone; off, the layer's momentum (0.1) is back.
  bn->set_training(false);
  Tensor x = normal_input({6, 3, 4, 5}, 70, 3.0f, 1.0f), y(x.shape(), Device::CPU);
  const std::vector<float> averaged = bn->buffers()[0].tensor->to_vector();
  bn->forward(x, y, ctx);
  EXPECT_EQ(bn->buffers()[0].tensor->to_vector(), averaged);
  bn->set_cumulative_statistics(false);
  bn->set_training(true);
  bn->forward(x, y, ctx);
  for (int64_t c = 0; c < 3; ++c) {
    const double want = 0.9 * averaged[c] + 0.1 * reference_stats(x, c).mean;
    EXPECT_NEAR(bn->buffers()[0].tensor->data()[c], want, 1e-5 * (1 + std::abs(want))) << c;
  }
}

TEST(BatchNormEval, UsesTheRunningStatisticsAndLeavesThemAlone) {
  auto bn = built(BatchNorm1d(5), {8, 5});
  Context ctx(Device::CPU);
  for (uint64_t step = 0; step < 3; ++step) {
    Tensor x = normal_input({8, 5}, 30 + step, 2.0f, 3.0f), y({8, 5}, Device::CPU);
    bn->forward(x, y, ctx);
  }
  bn->set_training(false);
  const std::vector<float> rm = bn->buffers()[0].tensor->to_vector();
  const std::vector<float> rv = bn->buffers()[1].tensor->to_vector();
  const std::vector<float> g = bn->parameters()[0].value->to_vector();
  const std::vector<float> b = bn->parameters()[1].value->to_vector();
  EXPECT_NE(rm[0], 0.0f);
  for (int64_t n : {int64_t{7}, int64_t{1}}) {  // one row is fine in evaluation mode
    Tensor x = normal_input({n, 5}, 40 + n, 2.0f, 3.0f), y({n, 5}, Device::CPU);
    bn->forward(x, y, ctx);
    for (int64_t i = 0; i < n * 5; ++i) {
      const size_t c = static_cast<size_t>(i % 5);
      const double want = g[c] * (x.data()[i] - rm[c]) / std::sqrt(rv[c] + 1e-5) + b[c];
      EXPECT_NEAR(y.data()[i], want, 1e-5 * (1 + std::abs(want))) << i;
    }
  }
  EXPECT_EQ(bn->buffers()[0].tensor->to_vector(), rm);
  EXPECT_EQ(bn->buffers()[1].tensor->to_vector(), rv);
}

TEST(BatchNormLayer, StartsLikePyTorchAndNarrowBatchesUseOnlyTheirRows) {
  BatchNorm bn(2, 4);
  Rng rng(0);
  EXPECT_EQ(bn.build({8, 4, 3, 3}, Device::CPU, rng), (Shape{8, 4, 3, 3}));
  const std::vector<Parameter> p = bn.parameters();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "weight");
  EXPECT_EQ(p[1].name, "bias");
  EXPECT_EQ(p[0].value->to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(p[1].value->to_vector(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(bn.buffers()[0].tensor->to_vector(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(bn.buffers()[1].tensor->to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(bn.kind(), "batchnorm2d");

  auto small = built(BatchNorm2d(4), {5, 4, 3, 3}), big = built(BatchNorm2d(4), {8, 4, 3, 3});
  Context ctx(Device::CPU);
  Tensor x = normal_input({8, 4, 3, 3}, 7), ys({5, 4, 3, 3}, Device::CPU),
         yb({8, 4, 3, 3}, Device::CPU);
  small->forward(x.narrow_batch(5), ys, ctx);
  Tensor ybn = yb.narrow_batch(5);
  big->forward(x.narrow_batch(5), ybn, ctx);
  EXPECT_EQ(ybn.to_vector(), ys.to_vector());
}

template <class F>
void expect_config_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    for (const std::string& s : parts)
      EXPECT_NE(std::string(e.what()).find(s), std::string::npos) << e.what();
  }
}

TEST(BatchNormErrors, ShapesOptionsAndSingleValuesPerChannel) {
  Rng rng(0);
  expect_config_error(
      [&] {
        BatchNorm2d(3)->build({2, 4, 5, 5}, Device::CPU, rng);
      },
      {"BatchNorm2d(3)", "expected 3 channels", "got 4"});
  expect_config_error(
      [&] {
        BatchNorm1d(5)->build({2, 4}, Device::CPU, rng);
      },
      {"BatchNorm1d(5)", "expected 5 features", "got 4"});
  expect_config_error([&] { BatchNorm2d(3)->build({2, 3}, Device::CPU, rng); }, {"[N, 3, H, W]"});
  expect_config_error([&] { BatchNorm1d(3)->build({2, 3, 4, 4}, Device::CPU, rng); }, {"[N, 3]"});
  EXPECT_THROW(BatchNorm1d(0), ConfigError);
  EXPECT_THROW(BatchNorm1d(3, {0.1, 0.0, false}), ConfigError);
  EXPECT_THROW(BatchNorm1d(3, {1.5, 1e-5, false}), ConfigError);

  Context ctx(Device::CPU);
  for (const Shape& shape : {Shape{1, 4}, Shape{1, 4, 1, 1}}) {
    auto bn = shape.size() == 2 ? BatchNorm1d(4) : BatchNorm2d(4);
    bn->build(shape, Device::CPU, rng);
    Tensor x = normal_input(shape, 8), y(shape, Device::CPU);
    expect_config_error([&] { bn->forward(x, y, ctx); },
                        {"expected more than 1 value per channel when training"});
    bn->set_training(false);
    EXPECT_NO_THROW(bn->forward(x, y, ctx));
    expect_config_error([&] { bn->backward(x, y, y, nullptr, ctx); }, {"training-mode forward"});
  }
  auto two = BatchNorm2d(4);  // N = 1 but H*W = 2: two values per channel
  two->build({1, 4, 2, 1}, Device::CPU, rng);
  Tensor x = normal_input({1, 4, 2, 1}, 9), y({1, 4, 2, 1}, Device::CPU);
  EXPECT_NO_THROW(two->forward(x, y, ctx));
  Tensor wrong = normal_input({1, 4, 1, 2}, 9);
  expect_config_error([&] { two->forward(wrong, y, ctx); }, {"does not match the built"});
}

TEST(LenetBn, ShapesAsInTheBook) {
  Sequential net = make_model("lenet-bn");
  net.build({1, 28, 28}, 4, Device::CPU, 0);
  const std::string s = net.summary();
  for (const char* expected :
       {"0  conv2d  output [4, 6, 24, 24]", "1  batchnorm2d  output [4, 6, 24, 24]", "2  sigmoid",
        "3  avgpool2d  output [4, 6, 12, 12]", "4  conv2d  output [4, 16, 8, 8]",
        "5  batchnorm2d  output [4, 16, 8, 8]", "7  avgpool2d  output [4, 16, 4, 4]",
        "8  flatten  output [4, 256]", "9  linear  output [4, 120]",
        "10  batchnorm1d  output [4, 120]  params 240", "11  sigmoid", "12  linear  output [4, 84]",
        "13  batchnorm1d  output [4, 84]", "14  sigmoid", "15  linear  output [4, 10]"})
    EXPECT_NE(s.find(expected), std::string::npos) << expected << "\n" << s;
  EXPECT_EQ(net.parameter_count(), 44878);
  EXPECT_EQ(net.parameters()[2].name, "1.weight");
}

// A few epochs of SGD at lr 1.0 on separable synthetic images: the loss falls, and the
// evaluation-mode forward (running statistics) classifies held-out images.
TEST(LenetBn, LearnsSyntheticDataAtLearningRateOne) {
  const int64_t batch = 32, batches = 10;
  const data::ImageDataset train = test::separable_images(batch * batches, 1);
  const data::ImageDataset held_out = test::separable_images(batch, 2);
  auto images = [](const data::ImageDataset& d, int64_t first, int64_t n) {
    std::vector<float> v(static_cast<size_t>(n * 784));
    for (size_t i = 0; i < v.size(); ++i) v[i] = d.images[first * 784 + i] / 255.0f;
    std::vector<float> l(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) l[static_cast<size_t>(i)] = d.labels[first + i];
    return std::make_pair(Tensor::from_vector(v, {n, 1, 28, 28}, Device::CPU),
                          Tensor::from_vector(l, {n}, Device::CPU));
  };
  Context ctx(Device::CPU);
  Sequential net = make_model("lenet-bn");
  net.build({1, 28, 28}, batch, Device::CPU, 3);
  SoftmaxCrossEntropy loss;
  loss.build(batch, Device::CPU);
  auto opt = make_optimizer("sgd", net.parameters(), 1.0, ctx);
  std::vector<double> epoch_loss;
  for (int epoch = 0; epoch < 4; ++epoch) {
    double sum = 0.0;
    for (int64_t b = 0; b < batches; ++b) {
      auto [x, labels] = images(train, b * batch, batch);
      float sums[2];
      loss.forward(net.forward(x, ctx), labels, &net.output_grad(), sums, ctx);
      net.backward(ctx);
      opt->step(ctx);
      sum += sums[0];
    }
    epoch_loss.push_back(sum / static_cast<double>(batch * batches));
  }
  EXPECT_LT(epoch_loss.back(), 0.5 * epoch_loss.front())
      << "epoch losses " << epoch_loss.front() << " ... " << epoch_loss.back();
  net.set_training(false);
  auto [x, labels] = images(held_out, 0, batch);
  float sums[2];
  loss.forward(net.forward(x, ctx), labels, nullptr, sums, ctx);
  EXPECT_GE(sums[1], 0.9f * batch) << "held-out loss " << sums[0] / batch;
}

}  // namespace
}  // namespace cutrain
