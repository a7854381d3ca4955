// Sequential and the LeNet builders: shapes, parameter names, batch narrowing and the gradient
// of the whole network with the loss.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/linear.h"
#include "cutrain/models/pooling.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "support/gradcheck.h"

namespace cutrain {
namespace {

Tensor random_images(int64_t n, uint64_t seed) {
  Tensor x({n, 1, 28, 28}, Device::CPU);
  Rng rng(seed);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = rng.uniform();
  return x;
}

TEST(Sequential, LeNetShapesAsInTheBook) {
  Sequential net = make_model("lenet");
  net.build({1, 28, 28}, 4, Device::CPU, 0);
  const std::string s = net.summary();
  // d2l prints these output shapes for a 1x1x28x28 input.
  for (const char* expected :
       {"0  conv2d  output [4, 6, 28, 28]", "2  maxpool2d  output [4, 6, 14, 14]",
        "3  conv2d  output [4, 16, 10, 10]", "5  maxpool2d  output [4, 16, 5, 5]",
        "6  flatten  output [4, 400]", "7  linear  output [4, 120]", "9  linear  output [4, 84]",
        "11  linear  output [4, 10]"})
    EXPECT_NE(s.find(expected), std::string::npos) << expected << "\n" << s;
  EXPECT_EQ(net.parameter_count(), 61706);
}

TEST(Sequential, ParameterNamesFollowPyTorch) {
  Sequential net = make_model("lenet-classic");
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  std::vector<std::string> names;
  for (const Parameter& p : net.parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias",
                                             "7.weight", "7.bias", "9.weight", "9.bias",
                                             "11.weight", "11.bias"}));
}

TEST(Sequential, SameSeedSameWeightsOtherSeedOther) {
  Sequential a = make_model("lenet"), b = make_model("lenet"), c = make_model("lenet");
  a.build({1, 28, 28}, 2, Device::CPU, 42);
  b.build({1, 28, 28}, 8, Device::CPU, 42);
  c.build({1, 28, 28}, 2, Device::CPU, 43);
  EXPECT_EQ(a.parameters()[0].value->to_vector(), b.parameters()[0].value->to_vector());
  EXPECT_NE(a.parameters()[0].value->to_vector(), c.parameters()[0].value->to_vector());
}

TEST(Sequential, SmallerBatchGivesTheSameRows) {
  Context ctx(Device::CPU);
  Sequential net = make_model("lenet");
  net.build({1, 28, 28}, 6, Device::CPU, 1);
  Tensor x = random_images(6, 2);
  const std::vector<float> full = net.forward(x, ctx).to_vector();
  const Tensor& part = net.forward(x.narrow_batch(3), ctx);
  ASSERT_EQ(part.shape(), (Shape{3, 10}));
  const std::vector<float> rows = part.to_vector();
  // BLAS may block a GEMM differently for another row count: equal up to rounding.
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_NEAR(rows[i], full[i], 1e-6 + 1e-5 * std::abs(full[i])) << i;
}

TEST(Sequential, RejectsBadInputs) {
  Context ctx(Device::CPU);
  Sequential net = make_model("lenet");
  EXPECT_THROW(net.forward(random_images(1, 0), ctx), ConfigError);  // not built
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  EXPECT_THROW(net.forward(random_images(3, 0), ctx), ConfigError);  // larger than built
  Tensor wrong({2, 1, 27, 28}, Device::CPU);
  EXPECT_THROW(net.forward(wrong, ctx), ConfigError);
  EXPECT_THROW(make_model("resnet-9000"), ConfigError);
}

// Absorbed activations (conv + bias + ReLU in one pass, Linear likewise) change how the work
// is done, not what it computes: on the CPU the same arithmetic in the same order, so outputs,
// input gradients of every layer and parameter gradients are equal bit for bit, for full and
// narrowed batches.
void expect_fusion_changes_nothing(const std::function<Sequential()>& make,
                                   const std::string& model, size_t absorbed_layers) {
  Context ctx(Device::CPU);
  Sequential fused = make(), plain = make();
  plain.set_fuse_activations(false);
  fused.build({1, 28, 28}, 5, Device::CPU, 9);
  plain.build({1, 28, 28}, 5, Device::CPU, 9);
  size_t absorbed = 0;
  for (size_t i = 0; i < fused.layers().size(); ++i) {
    absorbed += fused.absorbed(i) ? 1 : 0;
    EXPECT_FALSE(plain.absorbed(i));
  }
  EXPECT_EQ(absorbed, absorbed_layers) << model;
  const Tensor x = random_images(5, 3);
  for (const int64_t n : {int64_t{5}, int64_t{2}}) {
    SCOPED_TRACE(model + ", batch " + std::to_string(n));
    const Tensor xn = x.narrow_batch(n);
    EXPECT_EQ(fused.forward(xn, ctx).to_vector(), plain.forward(xn, ctx).to_vector());
    Rng rng(4);
    std::vector<float> dout(static_cast<size_t>(fused.output_grad().numel()));
    for (float& v : dout) v = rng.uniform(-1.0f, 1.0f);
    fused.output_grad().copy_from_host(dout.data(), fused.output_grad().numel());
    plain.output_grad().copy_from_host(dout.data(), plain.output_grad().numel());
    fused.backward(ctx);
    plain.backward(ctx);
    const std::vector<Parameter> pf = fused.parameters(), pp = plain.parameters();
    ASSERT_EQ(pf.size(), pp.size());
    for (size_t i = 0; i < pf.size(); ++i)
      EXPECT_EQ(pf[i].grad->to_vector(), pp[i].grad->to_vector()) << pf[i].name;
  }
}

// The LeNets' activations all follow a conv or a linear layer: each is absorbed.
TEST(Sequential, AbsorbedActivationsGiveTheSameBitsLeNet) {
  expect_fusion_changes_nothing([] { return make_model("lenet"); }, "lenet", 4);
}

TEST(Sequential, AbsorbedActivationsGiveTheSameBitsLeNetClassic) {
  expect_fusion_changes_nothing([] { return make_model("lenet-classic"); }, "lenet-classic", 4);
}

// Edges of the aliasing: a reshape first, an absorbed activation last (the model's output and
// output gradient are then the absorbing layer's), and an activation after an absorbed one
// (runs on its own).
TEST(Sequential, AbsorbedActivationsAtTheEdgesGiveTheSameBits) {
  auto make = [] {
    Sequential net;
    net.add(std::make_unique<Flatten>())
        .add(std::make_unique<Linear>(784, 12))
        .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
        .add(std::make_unique<ActivationLayer>(ActivationKind::Sigmoid))
        .add(std::make_unique<Linear>(12, 10))
        .add(std::make_unique<ActivationLayer>(ActivationKind::Sigmoid));
    return net;
  };
  expect_fusion_changes_nothing(make, "flatten-linear-relu-sigmoid-linear-sigmoid", 2);
  Sequential net = make();
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  EXPECT_TRUE(net.absorbed(2));
  EXPECT_FALSE(net.absorbed(3));
  EXPECT_TRUE(net.absorbed(5));
}

TEST(Sequential, AbsorptionIsShownAndFixedAtBuild) {
  Sequential net = make_model("lenet");
  net.build({1, 28, 28}, 2, Device::CPU, 0);
  EXPECT_TRUE(net.absorbed(1));   // relu after conv 0
  EXPECT_FALSE(net.absorbed(2));  // max-pool
  EXPECT_TRUE(net.absorbed(8));   // relu after linear 7
  EXPECT_NE(net.summary().find("1  relu  output [2, 6, 28, 28]  params 0  (applied by 0)"),
            std::string::npos)
      << net.summary();
  EXPECT_THROW(net.set_fuse_activations(false), ConfigError);
  // Nothing absorbs an activation after a pooling layer or another activation.
  Sequential odd;
  odd.add(MaxPool2d(2, 2))
      .add(std::make_unique<ActivationLayer>(ActivationKind::ReLU))
      .add(std::make_unique<ActivationLayer>(ActivationKind::Sigmoid));
  odd.build({1, 4, 4}, 1, Device::CPU, 0);
  EXPECT_FALSE(odd.absorbed(1));
  EXPECT_FALSE(odd.absorbed(2));
}

// The whole chain: loss -> dense -> flatten (aliased) -> pooling -> conv, on the smooth
// (sigmoid, average-pool) LeNet so that finite differences are meaningful everywhere.
TEST(Sequential, LeNetClassicGradientOfTheMeanLoss) {
  Context ctx(Device::CPU);
  Sequential net = make_model("lenet-classic");
  const int64_t n = 3;
  net.build({1, 28, 28}, n, Device::CPU, 5);
  Tensor x = random_images(n, 6);
  Tensor labels = Tensor::from_vector({1.0f, 7.0f, 3.0f}, {n}, Device::CPU);
  SoftmaxCrossEntropy loss;
  loss.build(n, Device::CPU);
  float sums[2];
  loss.forward(net.forward(x, ctx), labels, &net.output_grad(), sums, ctx);
  net.backward(ctx);

  std::vector<test::GradTarget> targets;
  for (const Parameter& p : net.parameters())
    targets.push_back({p.name, p.value, p.grad->to_vector()});
  auto mean_loss = [&] {
    float s[2];
    loss.forward(net.forward(x, ctx), labels, nullptr, s, ctx);
    return static_cast<double>(s[0]) / n;
  };
  test::GradCheckOptions opt;
  opt.eps = 1e-2;
  opt.atol = 1e-4;
  opt.rtol = 5e-2;
  opt.max_checks_per_tensor = 12;
  const auto bad = test::compare_with_finite_differences(targets, mean_loss, opt);
  EXPECT_TRUE(bad.empty()) << test::describe(bad);
}

}  // namespace
}  // namespace cutrain
