// The layers ResNet and DenseNet added, on the CPU: global average pooling, the residual sum,
// bilinear resize (hand values from PyTorch's F.interpolate, the adjoint, finite differences),
// padded pooling, and the strided batch views (channel slices) that Conv2d and BatchNorm take.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "add.h"
#include "cutrain/batch_view.h"
#include "cutrain/error.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/bilinear_resize.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/global_avg_pool.h"
#include "cutrain/models/pooling.h"
#include "support/gradcheck.h"

namespace cutrain {
namespace {

using test::check_layer_gradients;
using test::describe;

using test::random_input;

std::vector<float> run_forward(Layer& layer, const Tensor& x) {
  Rng rng(0);
  const Shape out = layer.build(x.shape(), Device::CPU, rng);
  Context ctx(Device::CPU);
  Tensor y(out, Device::CPU);
  layer.forward(x, y, ctx);
  return y.to_vector();
}

void expect_gradients_match(Layer& layer, Tensor x, test::GradCheckOptions opt = {}) {
  Rng rng(3);
  const Shape y_shape = layer.build(x.shape(), Device::CPU, rng);
  const auto bad = check_layer_gradients(layer, x, y_shape, opt);
  EXPECT_TRUE(bad.empty()) << describe(bad);
}

TEST(GlobalAvgPool, MeanOfEachPlane) {
  GlobalAvgPool2d gap;
  Tensor x = random_input({2, 3, 5, 7}, 1);
  const std::vector<float> y = run_forward(gap, x);
  ASSERT_EQ(y.size(), 6u);
  for (int64_t p = 0; p < 6; ++p) {
    double sum = 0.0;
    for (int64_t j = 0; j < 35; ++j) sum += x.data()[p * 35 + j];
    EXPECT_NEAR(y[p], sum / 35.0, 1e-6) << p;
  }
}

TEST(GlobalAvgPool, Gradients) {
  GlobalAvgPool2d gap;
  expect_gradients_match(gap, random_input({2, 3, 4, 5}, 2));
  GlobalAvgPool2d large;  // more than 32 values per plane: every lane of the sum order used
  test::GradCheckOptions opt;
  opt.max_checks_per_tensor = 40;
  expect_gradients_match(large, random_input({1, 2, 9, 11}, 3), opt);
}

TEST(ResidualAdd, ForwardAndBackwardByHand) {
  const std::vector<float> a{1.0f, -2.0f, 0.5f, -0.25f}, b{0.5f, 1.0f, -1.0f, 0.5f};
  std::vector<float> y(4), plain(4), g(4);
  kernels::add_forward_cpu(a.data(), b.data(), y.data(), 4, true);
  kernels::add_forward_cpu(a.data(), b.data(), plain.data(), 4, false);
  EXPECT_EQ(y, (std::vector<float>{1.5f, 0.0f, 0.0f, 0.25f}));
  EXPECT_EQ(plain, (std::vector<float>{1.5f, -1.0f, -0.5f, 0.25f}));
  const std::vector<float> dy{1.0f, 2.0f, 3.0f, 4.0f};
  kernels::add_backward_cpu(y.data(), dy.data(), g.data(), 4, true);
  EXPECT_EQ(g, (std::vector<float>{1.0f, 0.0f, 0.0f, 4.0f}));
  kernels::add_backward_cpu(y.data(), dy.data(), g.data(), 4, false);
  EXPECT_EQ(g, dy);
  kernels::add_forward_cpu(a.data(), b.data(), plain.data(), 0, true);  // empty: no-op
}

// L = sum r * relu(a + b): both inputs get relu'(a + b) r; checked against central differences
// with values away from the kink.
TEST(ResidualAdd, GradientsMatchFiniteDifferences) {
  const int64_t n = 23;
  Tensor a = random_input({n}, 4), b = random_input({n}, 5), r = random_input({n}, 6);
  for (int64_t i = 0; i < n; ++i)
    if (std::abs(a.data()[i] + b.data()[i]) < 0.1f) a.data()[i] += 0.3f;
  for (bool relu : {true, false}) {
    std::vector<float> y(n), g(n);
    kernels::add_forward_cpu(a.data(), b.data(), y.data(), n, relu);
    kernels::add_backward_cpu(y.data(), r.data(), g.data(), n, relu);
    std::vector<test::GradTarget> targets{{"add.a", &a, g}, {"add.b", &b, g}};
    auto loss = [&] {
      std::vector<float> out(n);
      kernels::add_forward_cpu(a.data(), b.data(), out.data(), n, relu);
      double l = 0.0;
      for (int64_t i = 0; i < n; ++i) l += static_cast<double>(r.data()[i]) * out[i];
      return l;
    };
    const auto bad = test::compare_with_finite_differences(targets, loss, {});
    EXPECT_TRUE(bad.empty()) << (relu ? "relu: " : "plain: ") << describe(bad);
  }
}

// torch.nn.functional.interpolate(x, size=4, mode="bilinear", align_corners=False) of
// [[1, 2], [3, 4]].
TEST(BilinearResize, UpsamplesLikePyTorch) {
  BilinearResize up(4, 4);
  const std::vector<float> y =
      run_forward(up, Tensor::from_vector({1, 2, 3, 4}, {1, 1, 2, 2}, Device::CPU));
  const std::vector<float> want{1.00f, 1.25f, 1.75f, 2.00f, 1.50f, 1.75f, 2.25f, 2.50f,
                                2.50f, 2.75f, 3.25f, 3.50f, 3.00f, 3.25f, 3.75f, 4.00f};
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(y[i], want[i]) << i;
}

// Downsampling by 2 (no antialiasing) averages each 2x2 block: of 0..15, [[2.5, 4.5],
// [10.5, 12.5]]; a non-square size change keeps a constant image constant.
TEST(BilinearResize, DownsamplesLikePyTorchAndKeepsConstants) {
  std::vector<float> ramp(16);
  for (int i = 0; i < 16; ++i) ramp[i] = static_cast<float>(i);
  BilinearResize down(2, 2);
  const std::vector<float> y =
      run_forward(down, Tensor::from_vector(ramp, {1, 1, 4, 4}, Device::CPU));
  EXPECT_EQ(y, (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  BilinearResize odd(13, 6);
  Tensor flat({2, 1, 5, 9}, Device::CPU);
  flat.fill(0.75f);
  for (float v : run_forward(odd, flat)) EXPECT_FLOAT_EQ(v, 0.75f);
  BilinearResize same(5, 9);
  Tensor x = random_input({1, 2, 5, 9}, 7);
  EXPECT_EQ(run_forward(same, x), x.to_vector());  // same size: the identity
}

// Backward is the adjoint of forward: <R x, g> = <x, R^T g>, at the trainer's 28 -> 96 and at
// odd up- and down-sampling factors (this exercises the gather ranges of the backward).
TEST(BilinearResize, BackwardIsTheAdjoint) {
  struct Case {
    int64_t h, w, ho, wo;
  };
  for (const Case c : {Case{28, 28, 96, 96}, Case{96, 96, 28, 28}, Case{5, 7, 13, 3},
                       Case{13, 3, 5, 7}, Case{1, 4, 3, 1}}) {
    SCOPED_TRACE(std::to_string(c.h) + "x" + std::to_string(c.w) + " -> " + std::to_string(c.ho) +
                 "x" + std::to_string(c.wo));
    BilinearResize r(c.ho, c.wo);
    Rng rng(0);
    r.build({2, 1, c.h, c.w}, Device::CPU, rng);
    Context ctx(Device::CPU);
    Tensor x = random_input({2, 1, c.h, c.w}, 8), g = random_input({2, 1, c.ho, c.wo}, 9);
    Tensor y({2, 1, c.ho, c.wo}, Device::CPU), dx({2, 1, c.h, c.w}, Device::CPU);
    r.forward(x, y, ctx);
    r.backward(x, y, g, &dx, ctx);
    double lhs = 0.0, rhs = 0.0;
    for (int64_t i = 0; i < y.numel(); ++i) lhs += static_cast<double>(y.data()[i]) * g.data()[i];
    for (int64_t i = 0; i < x.numel(); ++i) rhs += static_cast<double>(x.data()[i]) * dx.data()[i];
    EXPECT_NEAR(lhs, rhs, 1e-4 * (1.0 + std::abs(lhs)));
  }
}

TEST(BilinearResize, GradientsMatchFiniteDifferences) {
  BilinearResize up(7, 5);
  expect_gradients_match(up, random_input({2, 2, 3, 4}, 10));
  BilinearResize down(2, 3);
  expect_gradients_match(down, random_input({1, 2, 5, 7}, 11));
}

// 3x3 max-pool, stride 2, padding 1 (the ResNet/DenseNet stem): the padding never wins, even
// over negative values; average pooling counts it (count_include_pad).
TEST(PaddedPooling, ValuesByHand) {
  auto max = MaxPool2d(3, 2, 1);
  const Tensor neg = Tensor::from_vector({-1, -2, -3, -4}, {1, 1, 2, 2}, Device::CPU);
  EXPECT_EQ(run_forward(*max, neg), (std::vector<float>{-1.0f}));
  auto avg = AvgPool2d(3, 2, 1);
  const Tensor ones = Tensor::from_vector({1, 1, 1, 1}, {1, 1, 2, 2}, Device::CPU);
  EXPECT_FLOAT_EQ(run_forward(*avg, ones)[0], 4.0f / 9.0f);
  // 5x5 of 0..24: windows centred on (0,0), (0,2), (0,4), (2,0), ... take their bottom-right.
  std::vector<float> ramp(25);
  for (int i = 0; i < 25; ++i) ramp[i] = static_cast<float>(i);
  auto max5 = MaxPool2d(3, 2, 1);
  EXPECT_EQ(run_forward(*max5, Tensor::from_vector(ramp, {1, 1, 5, 5}, Device::CPU)),
            (std::vector<float>{6, 8, 9, 16, 18, 19, 21, 23, 24}));
  EXPECT_THROW(Pool2d(PoolMode::Max, 3, 2, 2), ConfigError);  // padding > kernel / 2
}

// Distinct values (some negative) 0.05 apart: every window has a clear maximum.
Tensor distinct_values(const Shape& shape, uint64_t seed) {
  Tensor x(shape, Device::CPU);
  std::vector<int64_t> order(static_cast<size_t>(x.numel()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int64_t>(i);
  Rng rng(seed);
  for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = 0.05f * static_cast<float>(order[i]) - 1.0f;
  return x;
}

TEST(PaddedPooling, Gradients) {
  Pool2d max(PoolMode::Max, 3, 2, 1);
  expect_gradients_match(max, distinct_values({2, 2, 7, 6}, 12));
  Pool2d avg(PoolMode::Average, 3, 2, 1);
  expect_gradients_match(avg, random_input({1, 2, 5, 6}, 13));
  Pool2d avg2(PoolMode::Average, 2, 1, 1);
  expect_gradients_match(avg2, random_input({1, 1, 4, 3}, 14));
}

TEST(BatchView, ChannelSlicesAndCopies) {
  Tensor buf = random_input({3, 5, 2, 2}, 15);
  const BatchView v = BatchView::of(buf);
  EXPECT_TRUE(v.packed());
  const BatchView s = v.channels(1, 3);
  EXPECT_EQ(s.shape, (Shape{3, 3, 2, 2}));
  EXPECT_EQ(s.batch_stride, 20);
  EXPECT_FALSE(s.packed());
  EXPECT_EQ(s.sample(2), buf.data() + 2 * 20 + 4);
  Tensor packed({3, 3, 2, 2}, Device::CPU);
  copy_batch(s, BatchView::of(packed));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 12; ++j)
      ASSERT_EQ(packed.data()[i * 12 + j], buf.data()[i * 20 + 4 + j]);
  EXPECT_THROW(v.channels(4, 2), ConfigError);
  EXPECT_THROW(copy_batch(v, s), ConfigError);
}

// Conv2d on channel slices equals Conv2d on packed copies of them.
TEST(StridedViews, ConvOnChannelSlicesMatchesPacked) {
  Conv2d conv({3, 2, 3, 1, 1});
  Rng rng(1);
  conv.build({4, 3, 5, 5}, Device::CPU, rng);
  Context ctx(Device::CPU);
  Tensor xbuf = random_input({3, 6, 5, 5}, 16), ybuf = random_input({3, 7, 5, 5}, 17);
  const BatchView xs = BatchView::of(xbuf).channels(2, 3), ys = BatchView::of(ybuf).channels(4, 2);
  Tensor xp({3, 3, 5, 5}, Device::CPU), yp({3, 2, 5, 5}, Device::CPU);
  copy_batch(xs, BatchView::of(xp));
  conv.forward_view(xs, ys, ctx);
  conv.forward(xp, yp, ctx);
  Tensor y_from_slice({3, 2, 5, 5}, Device::CPU);
  copy_batch(ys, BatchView::of(y_from_slice));
  EXPECT_EQ(y_from_slice.to_vector(), yp.to_vector());
  EXPECT_EQ(ybuf.data()[0], random_input({3, 7, 5, 5}, 17).data()[0]);  // other channels kept

  // Backward with a strided dy and a strided dx (dx shares x's stride).
  Tensor dxbuf = Tensor::zeros({3, 6, 5, 5}, Device::CPU);
  const BatchView dxs = BatchView::of(dxbuf).channels(2, 3);
  conv.backward_view(xs, ys, &dxs, ctx);
  const std::vector<float> dw_slice = conv.parameters()[0].grad->to_vector();
  Tensor dxp({3, 3, 5, 5}, Device::CPU), dyp({3, 2, 5, 5}, Device::CPU);
  copy_batch(ys, BatchView::of(dyp));
  conv.backward(xp, yp, dyp, &dxp, ctx);
  EXPECT_EQ(dw_slice, conv.parameters()[0].grad->to_vector());
  Tensor dx_from_slice({3, 3, 5, 5}, Device::CPU);
  copy_batch(dxs, BatchView::of(dx_from_slice));
  EXPECT_EQ(dx_from_slice.to_vector(), dxp.to_vector());
  const BatchView packed_dx = BatchView::of(dxp);
  EXPECT_THROW(conv.backward_view(xs, ys, &packed_dx, ctx), ConfigError);  // stride differs
}

// BatchNorm reading a channel slice (strided x) into a packed y, and its backward adding dx
// onto a strided gradient buffer, equal the packed computation.
TEST(StridedViews, BatchNormOnSlicesWithAccumulatedDx) {
  BatchNormOptions relu;
  relu.fuse_relu = true;
  auto bn = BatchNorm2d(4, relu);
  Rng rng(2);
  bn->build({3, 4, 3, 3}, Device::CPU, rng);
  Context ctx(Device::CPU);
  Tensor xbuf = random_input({3, 6, 3, 3}, 18);
  const BatchView xs = BatchView::of(xbuf).channels(0, 4);
  Tensor y({3, 4, 3, 3}, Device::CPU), yp({3, 4, 3, 3}, Device::CPU), xp({3, 4, 3, 3}, Device::CPU);
  copy_batch(xs, BatchView::of(xp));
  bn->forward_view(xs, BatchView::of(y), ctx);
  const std::vector<float> from_slice = y.to_vector();
  bn->forward(xp, yp, ctx);
  EXPECT_EQ(from_slice, yp.to_vector());

  Tensor dy = random_input({3, 4, 3, 3}, 19), dxp({3, 4, 3, 3}, Device::CPU);
  bn->backward(xp, yp, dy, &dxp, ctx);
  Tensor gbuf = random_input({3, 6, 3, 3}, 20);
  const std::vector<float> before = gbuf.to_vector();
  const BatchView gs = BatchView::of(gbuf).channels(0, 4);
  bn->backward_view(xs, BatchView::of(yp), BatchView::of(dy), &gs, ctx, /*accumulate_dx=*/true);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 6 * 9; ++j) {
      const int64_t at = i * 54 + j;
      const float want = j < 36 ? before[at] + dxp.data()[i * 36 + j] : before[at];
      ASSERT_FLOAT_EQ(gbuf.data()[at], want) << i << " " << j;
    }
}

}  // namespace
}  // namespace cutrain
