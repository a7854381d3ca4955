// ResNet-18 and DenseNet on the CPU: the output shape of every stage for a 1x1x96x96 input (as
// d2l prints them) and at 28x28, parameter counts, finite-difference checks of the residual and
// dense blocks, and a short training run that lowers the loss. The new single layers (global
// average pool, residual sum, bilinear resize, padded pooling) are in test_new_layers.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/models/dense_block.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/residual_block.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/train/trainer.h"
#include "support/gradcheck.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

using test::check_layer_gradients;
using test::describe;

using test::random_input;

void expect_summary_has(const Sequential& net, const std::vector<std::string>& lines) {
  const std::string s = net.summary();
  for (const std::string& line : lines)
    EXPECT_NE(s.find(line + "  params"), std::string::npos) << line << "\n" << s;
}

// Builds for one 96x96 image, checks the shapes, and runs that image through (training mode).
void check_one_image_at_96(Sequential& net, int64_t params) {
  EXPECT_EQ(net.parameter_count(), params);
  Context ctx(Device::CPU);
  Tensor x = random_input({1, 1, 96, 96}, 5);
  const Tensor& y = net.forward(x, ctx);
  ASSERT_EQ(y.shape(), (Shape{1, 10}));
  for (float v : y.to_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST(ResNet18, StageShapesAsInTheBookAt96) {
  Sequential net = make_model("resnet18", {1, 96, 96});
  net.build({1, 96, 96}, 1, Device::CPU, 0);
  // d2l: b1 [1, 64, 24, 24], b2 [1, 64, 24, 24], b3 [1, 128, 12, 12], b4 [1, 256, 6, 6],
  // b5 [1, 512, 3, 3], pool [1, 512, 1, 1], flatten [1, 512], dense [1, 10].
  expect_summary_has(
      net, {"0  conv2d  output [1, 64, 48, 48]", "1  batchnorm2d+relu  output [1, 64, 48, 48]",
            "2  maxpool2d  output [1, 64, 24, 24]", "3  residual  output [1, 64, 24, 24]",
            "4  residual  output [1, 64, 24, 24]", "5  residual  output [1, 128, 12, 12]",
            "6  residual  output [1, 128, 12, 12]", "8  residual  output [1, 256, 6, 6]",
            "10  residual  output [1, 512, 3, 3]", "11  global_avg_pool2d  output [1, 512, 1, 1]",
            "12  flatten  output [1, 512]", "13  linear  output [1, 10]"});
  // Convolutions with biases (d2l's LazyConv2d), no BN on the 1x1 shortcuts.
  check_one_image_at_96(net, 11178378);
}

TEST(DenseNet, StageShapesAsInTheBookAt96) {
  Sequential net = make_model("densenet", {1, 96, 96});
  net.build({1, 96, 96}, 1, Device::CPU, 0);
  // Channels 64 -> 192 -> 96 -> 224 -> 112 -> 240 -> 120 -> 248.
  expect_summary_has(
      net, {"2  maxpool2d  output [1, 64, 24, 24]", "3  dense_block  output [1, 192, 24, 24]",
            "4  batchnorm2d+relu  output [1, 192, 24, 24]", "5  conv2d  output [1, 96, 24, 24]",
            "6  avgpool2d  output [1, 96, 12, 12]", "7  dense_block  output [1, 224, 12, 12]",
            "10  avgpool2d  output [1, 112, 6, 6]", "11  dense_block  output [1, 240, 6, 6]",
            "14  avgpool2d  output [1, 120, 3, 3]", "15  dense_block  output [1, 248, 3, 3]",
            "16  batchnorm2d+relu  output [1, 248, 3, 3]",
            "17  global_avg_pool2d  output [1, 248, 1, 1]", "18  flatten  output [1, 248]",
            "19  linear  output [1, 10]"});
  check_one_image_at_96(net, 758226);
}

TEST(ResNet18, Works28x28WithTheSameParameters) {
  Sequential net = make_model("resnet18");
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  expect_summary_has(net,
                     {"2  maxpool2d  output [2, 64, 7, 7]", "6  residual  output [2, 128, 4, 4]",
                      "8  residual  output [2, 256, 2, 2]", "10  residual  output [2, 512, 1, 1]",
                      "13  linear  output [2, 10]"});
  EXPECT_EQ(net.parameter_count(), 11178378);
}

TEST(DenseNet, Works28x28LeavingOutPoolsOf1x1) {
  Sequential net = make_model("densenet");
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  // 7x7 after the stem; the transitions pool to 3x3 and 1x1; the last one keeps 1x1.
  expect_summary_has(net,
                     {"3  dense_block  output [2, 192, 7, 7]", "6  avgpool2d  output [2, 96, 3, 3]",
                      "10  avgpool2d  output [2, 112, 1, 1]", "13  conv2d  output [2, 120, 1, 1]",
                      "14  dense_block  output [2, 248, 1, 1]", "18  linear  output [2, 10]"});
  EXPECT_EQ(net.parameter_count(), 758226);
}

// Every batch norm of a model, those inside residual and dense blocks included, averages its
// batch statistics in cumulative mode: after batches X and Y each buffer is the mean of what X
// alone and Y alone give (the momentum-0.1 update would not be).
TEST(ResNetDenseNet, CumulativeStatisticsReachEveryBatchNorm) {
  for (const char* name : {"resnet18", "densenet"}) {
    SCOPED_TRACE(name);
    Context ctx(Device::CPU);
    const Tensor x = random_input({2, 1, 28, 28}, 81), y = random_input({2, 1, 28, 28}, 82);
    auto buffers_after = [&](std::vector<const Tensor*> batches) {
      Sequential net = make_model(name);
      net.build({1, 28, 28}, 2, Device::CPU, 0);
      net.set_cumulative_statistics(true);
      for (const Tensor* b : batches) net.forward(*b, ctx);
      std::vector<std::vector<float>> out;
      for (const NamedTensor& t : net.state_tensors())
        if (t.name.find("running_") != std::string::npos) out.push_back(t.tensor->to_vector());
      return out;
    };
    const auto bx = buffers_after({&x}), by = buffers_after({&y}), bxy = buffers_after({&x, &y});
    ASSERT_GT(bxy.size(), 10u);
    ASSERT_EQ(bx.size(), bxy.size());
    for (size_t i = 0; i < bxy.size(); ++i)
      for (size_t c = 0; c < bxy[i].size(); ++c) {
        const double want = 0.5 * (static_cast<double>(bx[i][c]) + by[i][c]);
        ASSERT_NEAR(bxy[i][c], want, 1e-5 * (1 + std::abs(want)))
            << "buffer " << i << " [" << c << "]";
      }
  }
}

TEST(ResNetDenseNet, ParameterNamesFollowD2l) {
  Sequential resnet = make_model("resnet18");
  resnet.build({1, 28, 28}, 2, Device::CPU, 0);
  std::vector<std::string> names;
  for (const NamedTensor& t : resnet.state_tensors()) names.push_back(t.name);
  for (const char* name : {"0.weight", "1.running_var", "3.conv1.weight", "3.bn2.bias",
                           "5.conv3.weight", "5.bn1.running_mean", "13.bias"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  EXPECT_EQ(std::find(names.begin(), names.end(), "3.conv3.weight"), names.end());
  Sequential densenet = make_model("densenet");
  densenet.build({1, 28, 28}, 2, Device::CPU, 0);
  names.clear();
  for (const NamedTensor& t : densenet.state_tensors()) names.push_back(t.name);
  for (const char* name : {"3.net.0.0.weight", "3.net.3.2.bias", "3.net.1.0.running_var"})
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
}

TEST(ResNetDenseNet, LeNetsRejectOtherSizesAndBadShapesAreErrors) {
  EXPECT_THROW(make_model("lenet", {1, 96, 96}), ConfigError);
  EXPECT_THROW(make_model("densenet", {96, 96}), ConfigError);
  EXPECT_THROW(ResidualBlock({3, 4, 1, /*use_1x1conv=*/false}), ConfigError);
  Rng rng(0);
  DenseBlock block({3, 2, 2});
  EXPECT_THROW(block.build({1, 4, 5, 5}, Device::CPU, rng), ConfigError);
}

// Sets each channel's BatchNorm shift to +6 or -6 (alternating), so every ReLU after it is
// clearly on or clearly off: finite differences never cross a kink, and both the passing and
// the masked paths are checked.
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void push_relus_off_the_kink(Layer& layer) {
  for (const Parameter& p : layer.parameters()) {
    const std::string& n = p.name;  // "bn1.bias" (residual), "net.1.0.bias" (dense)
    if (!((n.rfind("bn", 0) == 0 && ends_with(n, ".bias")) || ends_with(n, ".0.bias"))) continue;
    for (int64_t c = 0; c < p.value->numel(); ++c) p.value->data()[c] = c % 2 ? -6.0f : 6.0f;
  }
}

void expect_block_gradients(Layer& layer, const Shape& in, uint64_t seed) {
  Rng rng(seed);
  const Shape out = layer.build(in, Device::CPU, rng);
  push_relus_off_the_kink(layer);
  Tensor x = random_input(in, seed + 1);
  test::GradCheckOptions opt;
  opt.eps = 1e-2;
  const auto bad = check_layer_gradients(layer, x, out, opt);
  EXPECT_TRUE(bad.empty()) << describe(bad);
}

TEST(ResidualBlockGradients, IdentityShortcut) {
  ResidualBlock block({3, 3, 1, false});
  expect_block_gradients(block, {2, 3, 5, 5}, 11);
}

TEST(ResidualBlockGradients, OneByOneStrideTwoShortcut) {
  ResidualBlock block({3, 4, 2, true});
  expect_block_gradients(block, {2, 3, 6, 5}, 12);
}

TEST(ResidualBlockGradients, OneByOneShortcutWithBatchNorm) {
  ResidualBlock block({2, 3, 2, true, /*shortcut_bn=*/true});
  expect_block_gradients(block, {2, 2, 5, 5}, 13);
}

TEST(DenseBlockGradients, TwoConvBlocksGrowthTwo) {
  DenseBlock block({3, 2, 2});  // C0 = 3, growth 2, 2 conv blocks: 3 -> 7 channels
  expect_block_gradients(block, {2, 3, 5, 5}, 14);
}

TEST(DenseBlockGradients, ThreeConvBlocksOddSize) {
  DenseBlock block({2, 3, 3});
  expect_block_gradients(block, {3, 2, 3, 4}, 15);
}

// The dense block's output keeps its input in the first C0 channels, and a narrower batch
// gives the first rows of the full one (views of the static buffers).
TEST(DenseBlockLayout, InputIsTheFirstChannelsAndSmallerBatchesMatch) {
  DenseBlock block({3, 2, 2});
  Rng rng(3);
  const Shape out = block.build({4, 3, 5, 5}, Device::CPU, rng);
  Context ctx(Device::CPU);
  Tensor x = random_input({4, 3, 5, 5}, 4), y(out, Device::CPU);
  block.forward(x, y, ctx);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3 * 25; ++j)
      ASSERT_EQ(y.data()[i * 7 * 25 + j], x.data()[i * 3 * 25 + j]) << i << " " << j;
  block.set_training(false);  // running statistics: rows independent of the batch
  block.forward(x, y, ctx);
  const std::vector<float> full = y.to_vector();
  Tensor y2 = y.narrow_batch(2);
  block.forward(x.narrow_batch(2), y2, ctx);
  const std::vector<float> part = y2.to_vector();
  for (size_t k = 0; k < part.size(); ++k) ASSERT_EQ(part[k], full[k]) << k;
}

TEST(DenseNetTraining, ShortCpuRunLowersTheLoss) {
  const data::ImageDataset train = test::separable_images(64, 21);
  const data::ImageDataset test_set = test::separable_images(20, 22);
  Context ctx(Device::CPU);
  Sequential net = make_model("densenet");
  net.build({1, 28, 28}, 16, Device::CPU, 0);
  auto opt = make_optimizer("sgd", net.parameters(), 0.1, ctx);
  TrainerOptions o;
  o.batch_size = 16;
  Trainer trainer(net, *opt, ctx, train, test_set, o);
  const EpochMetrics first_epoch = trainer.train_epoch(1);
  EpochMetrics last = first_epoch;
  for (int64_t e = 2; e <= 3; ++e) last = trainer.train_epoch(e);
  EXPECT_TRUE(std::isfinite(first_epoch.train_loss));
  EXPECT_LT(last.train_loss, first_epoch.train_loss);
  EXPECT_LT(last.train_loss, std::log(10.0));
}

// --resize: the trainer resizes the staged batch on the training device; the model is built
// for the resized shape.
TEST(ResizeTraining, TrainerResizesTheInputBatch) {
  const data::ImageDataset train = test::separable_images(16, 23);
  const data::ImageDataset test_set = test::separable_images(10, 24);
  Context ctx(Device::CPU);
  Sequential net = make_model("resnet18", {1, 32, 32});
  net.build({1, 32, 32}, 8, Device::CPU, 0);
  auto opt = make_optimizer("sgd", net.parameters(), 0.05, ctx);
  TrainerOptions o;
  o.batch_size = 8;
  o.resize = 32;
  Trainer trainer(net, *opt, ctx, train, test_set, o);
  const EpochMetrics m = trainer.train_epoch(1);
  EXPECT_TRUE(std::isfinite(m.train_loss));
  EXPECT_TRUE(std::isfinite(m.test_loss));
  PipelineOptions resized;
  resized.resize = 32;
  EXPECT_EQ(evaluate_model(net, test_set, ctx, resized).examples, 10);
  // Without the resize the 28x28 batch does not fit the model: a clear error.
  EXPECT_THROW(evaluate_model(net, test_set, ctx), ConfigError);
}

}  // namespace
}  // namespace cutrain
