// The ops ResNet and DenseNet added, on CUDA against their CPU twins: the residual sum (+ReLU),
// global average pooling, bilinear resize (the trainer's --resize), padded pooling through
// cuDNN, and Conv2d / BatchNorm on strided channel slices (cuDNN strided descriptors and the
// strided batch-norm kernels, with accumulation into a gradient buffer). GPU outputs are
// poisoned with NaN first; elements outside the written region must stay NaN. Skipped without
// a usable device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "add.h"
#include "bilinear_resize.h"
#include "busy_wait.h"
#include "channel_bias_activation.h"
#include "cutrain/batch_view.h"
#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/conv2d.h"
#include "cutrain/models/pooling.h"
#include "cutrain/stream.h"
#include "global_avg_pool.h"
#include "support/compare.h"
#include "support/cuda_test.h"

namespace cutrain {
namespace {

using test::Near;
namespace kernels = cutrain::kernels;

using GpuNewOps = test::CudaTest;

// n seeded values, uniform in [-1, 1).
std::vector<float> uniform_values(uint64_t seed, int64_t n) {
  Rng rng(seed);
  return test::Uniform(rng, n, -1.0f, 1.0f);
}

constexpr int64_t kGuard = 37;  // poisoned elements after an output that must stay NaN
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST_F(GpuNewOps, AddKernelsMatchCpu) {
  Context ctx(Device::CUDA);
  for (const int64_t n : {int64_t{1}, int64_t{257}, int64_t{100003}}) {
    for (const bool relu : {true, false}) {
      SCOPED_TRACE("n " + std::to_string(n) + (relu ? " relu" : " plain"));
      const std::vector<float> a = uniform_values(1, n), b = uniform_values(2, n),
                               dy = uniform_values(3, n);
      std::vector<float> y(n), g(n);
      kernels::add_forward_cpu(a.data(), b.data(), y.data(), n, relu);
      kernels::add_backward_cpu(y.data(), dy.data(), g.data(), n, relu);
      const Tensor da = Tensor::from_vector(a, {n}, Device::CUDA);
      const Tensor db = Tensor::from_vector(b, {n}, Device::CUDA);
      const Tensor ddy = Tensor::from_vector(dy, {n}, Device::CUDA);
      Tensor dyout = test::Poisoned(Shape{n + kGuard}), dg = test::Poisoned(Shape{n + kGuard});
      kernels::launch_add_forward(da.data(), db.data(), dyout.data(), n, relu, ctx.stream());
      std::vector<float> got = dyout.to_vector(ctx.stream());
      EXPECT_TRUE(Near("forward", {got.begin(), got.begin() + n}, y, 0, 0));
      EXPECT_EQ(test::WrittenIn(got, n, n + kGuard), 0);
      kernels::launch_add_backward(dyout.data(), ddy.data(), dg.data(), n, relu, ctx.stream());
      got = dg.to_vector(ctx.stream());
      EXPECT_TRUE(Near("backward", {got.begin(), got.begin() + n}, g, 0, 0));
      EXPECT_EQ(test::WrittenIn(got, n, n + kGuard), 0);
      // In place, as the residual block uses it: a += b.
      Tensor inplace = Tensor::from_vector(a, {n}, Device::CUDA);
      kernels::launch_add_forward(inplace.data(), db.data(), inplace.data(), n, relu, ctx.stream());
      EXPECT_TRUE(Near("in place", inplace.to_vector(ctx.stream()), y, 0, 0));
    }
  }
}

// Images i < n of `per_image` values each, `stride` floats apart, are the written region; the
// rest (gaps between images, images past a smaller batch) was NaN and must stay NaN on the GPU.
// The region comes from the layout, not from the CPU's NaNs: inside it the CPU twin must give
// finite values (a NaN there would otherwise pass as a gap). Outside, both are zeroed so that
// Near compares the region.
void ExpectSameGaps(const std::string& what, std::vector<float>& gpu, std::vector<float>& cpu,
                    int64_t n, int64_t per_image, int64_t stride) {
  ASSERT_EQ(gpu.size(), cpu.size());
  int64_t written = 0, cpu_nan = 0;
  for (size_t k = 0; k < cpu.size(); ++k) {
    const auto i = static_cast<int64_t>(k) / stride, j = static_cast<int64_t>(k) % stride;
    if (i < n && j < per_image) {
      cpu_nan += std::isfinite(cpu[k]) ? 0 : 1;
      continue;
    }
    written += std::isnan(gpu[k]) ? 0 : 1;
    cpu[k] = gpu[k] = 0.0f;
  }
  EXPECT_EQ(cpu_nan, 0) << what << ": the CPU twin left non-finite values inside the views";
  EXPECT_EQ(written, 0) << what << ": values written outside the views";
}

// Conv2d's absorbed activation: bias + activation in place, and the activation gradient with
// the bias gradient in one launch, against the CPU twins, packed and on strided channel slices
// (the gaps between images must stay untouched), with one scratch reused by a smaller batch and
// by a second call (its counters must have reset themselves).
TEST_F(GpuNewOps, ChannelBiasActivationMatchesCpu) {
  Context ctx(Device::CUDA);
  struct Case {
    int64_t n, c, hw, gap;  // images `c * hw + gap` floats apart
  };
  for (const Case k : {Case{3, 5, 7, 0}, Case{2, 4, 9, 13}, Case{256, 6, 784, 0},
                       Case{256, 16, 100, 0}, Case{1, 1, 1, 0}, Case{33, 3, 500, 5}}) {
    for (const auto a : {kernels::Activation::ReLU, kernels::Activation::Sigmoid}) {
      const bool relu = a == kernels::Activation::ReLU;
      SCOPED_TRACE(std::to_string(k.n) + "x" + std::to_string(k.c) + "x" + std::to_string(k.hw) +
                   " gap " + std::to_string(k.gap) + (relu ? " relu" : " sigmoid"));
      const int64_t stride = k.c * k.hw + k.gap, total = k.n * stride;
      const kernels::ChannelDims full{k.n, k.c, k.hw, stride};
      const std::vector<float> bias = uniform_values(5, k.c), dy = uniform_values(6, total);
      std::vector<float> y = uniform_values(7, total);
      for (int64_t i = 0; i < k.n; ++i)  // gaps hold NaN: never read, never written
        for (int64_t j = k.c * k.hw; j < stride; ++j) y[i * stride + j] = kNaN;
      const std::vector<float> y_in = y;
      kernels::bias_activation_forward_cpu(a, full, bias.data(), y.data());
      const Tensor dbias = Tensor::from_vector(bias, {k.c}, Device::CUDA);
      Tensor dyv = Tensor::from_vector(y_in, {total}, Device::CUDA);
      kernels::launch_bias_activation_forward(a, full, dbias.data(), dyv.data(), ctx.stream());
      std::vector<float> y_gpu = dyv.to_vector(ctx.stream()), y_cpu = y;
      ExpectSameGaps("forward", y_gpu, y_cpu, k.n, k.c * k.hw, stride);
      // Same sum; sigmoid's expf may differ between host and device in the last bit.
      EXPECT_TRUE(Near("forward", y_gpu, y_cpu, relu ? 0 : 1e-6, relu ? 0 : 1e-7));

      Tensor partials(Shape{kernels::activation_bias_backward_partials(full)}, Device::CUDA);
      Tensor counters = Tensor::zeros(Shape{k.c}, Device::CUDA);
      const Tensor ddy = Tensor::from_vector(dy, {total}, Device::CUDA);
      const Tensor dyy = Tensor::from_vector(y, {total}, Device::CUDA);  // the CPU's output
      for (const int64_t n : {k.n, (k.n + 1) / 2, k.n}) {  // full, smaller, full again
        const kernels::ChannelDims d{n, k.c, k.hw, stride};
        std::vector<float> g(static_cast<size_t>(total), kNaN), db(static_cast<size_t>(k.c));
        kernels::activation_bias_backward_cpu(a, d, y.data(), dy.data(), g.data(), db.data());
        Tensor dg = test::Poisoned(Shape{total}), ddb = test::Poisoned(Shape{k.c});
        kernels::launch_activation_bias_backward(
            a, d, dyy.data(), ddy.data(), dg.data(), ddb.data(), partials.data(),
            reinterpret_cast<unsigned*>(counters.data()), ctx.stream());
        std::vector<float> g_gpu = dg.to_vector(ctx.stream());
        const std::string batch = "batch " + std::to_string(n);
        ExpectSameGaps(batch, g_gpu, g, n, k.c * k.hw, stride);
        EXPECT_TRUE(Near(batch + " dx", g_gpu, g, relu ? 0 : 1e-6, relu ? 0 : 1e-7));
        // A float sum in another order: relative to the sum of magnitudes.
        double scale = 0.0;
        for (float v : g) scale += std::abs(v);
        EXPECT_TRUE(Near(batch + " dbias", ddb.to_vector(ctx.stream()), db, 0,
                         1e-5 * scale / static_cast<double>(k.c) + 1e-7));
        EXPECT_EQ(counters.to_vector(ctx.stream()), std::vector<float>(k.c, 0.0f))
            << "counters left set";
      }
    }
  }
}

TEST_F(GpuNewOps, GlobalAvgPoolMatchesCpu) {
  Context ctx(Device::CUDA);
  struct Case {
    int64_t planes, s;
  };
  for (const Case c :
       {Case{1, 1}, Case{3, 9}, Case{7, 33}, Case{129, 576}, Case{1000, 1}, Case{5, 2304}}) {
    SCOPED_TRACE(std::to_string(c.planes) + " planes of " + std::to_string(c.s));
    const std::vector<float> x = uniform_values(4, c.planes * c.s);
    const std::vector<float> dy = uniform_values(5, c.planes);
    std::vector<float> y(c.planes), dx(c.planes * c.s);
    kernels::global_avg_pool_forward_cpu(x.data(), y.data(), c.planes, c.s);
    kernels::global_avg_pool_backward_cpu(dy.data(), dx.data(), c.planes, c.s);
    const Tensor dxin = Tensor::from_vector(x, {c.planes * c.s}, Device::CUDA);
    const Tensor ddy = Tensor::from_vector(dy, {c.planes}, Device::CUDA);
    Tensor gy = test::Poisoned(Shape{c.planes + kGuard}),
           gdx = test::Poisoned(Shape{c.planes * c.s + kGuard});
    kernels::launch_global_avg_pool_forward(dxin.data(), gy.data(), c.planes, c.s, ctx.stream());
    kernels::launch_global_avg_pool_backward(ddy.data(), gdx.data(), c.planes, c.s, ctx.stream());
    const std::vector<float> got_y = gy.to_vector(ctx.stream()),
                             got_dx = gdx.to_vector(ctx.stream());
    // Same summation order on both devices (global_avg_pool_math.h): equal up to the last bit
    // in practice; a tolerance of one rounding keeps the test about the order, not the compiler.
    EXPECT_TRUE(Near("forward", {got_y.begin(), got_y.begin() + c.planes}, y, 1e-6, 1e-7));
    EXPECT_TRUE(Near("backward", {got_dx.begin(), got_dx.begin() + c.planes * c.s}, dx, 0, 0));
    EXPECT_EQ(test::WrittenIn(got_y, c.planes, c.planes + kGuard), 0);
    EXPECT_EQ(test::WrittenIn(got_dx, c.planes * c.s, c.planes * c.s + kGuard), 0);
  }
}

TEST_F(GpuNewOps, BilinearResizeMatchesCpu) {
  Context ctx(Device::CUDA);
  for (const kernels::ResizeDims d :
       {kernels::ResizeDims{3, 28, 28, 96, 96}, kernels::ResizeDims{2, 96, 96, 28, 28},
        kernels::ResizeDims{4, 5, 7, 13, 3}, kernels::ResizeDims{1, 1, 1, 4, 4},
        kernels::ResizeDims{2, 6, 6, 6, 6}}) {
    SCOPED_TRACE(std::to_string(d.h) + "x" + std::to_string(d.w) + " -> " + std::to_string(d.ho) +
                 "x" + std::to_string(d.wo));
    const int64_t in = d.planes * d.h * d.w, out = d.planes * d.ho * d.wo;
    const std::vector<float> x = uniform_values(6, in), dy = uniform_values(7, out);
    std::vector<float> y(out), dx(in);
    kernels::bilinear_resize_forward_cpu(d, x.data(), y.data());
    kernels::bilinear_resize_backward_cpu(d, dy.data(), dx.data());
    const Tensor gx = Tensor::from_vector(x, {in}, Device::CUDA);
    const Tensor gdy = Tensor::from_vector(dy, {out}, Device::CUDA);
    Tensor gy = test::Poisoned(Shape{out + kGuard}), gdx = test::Poisoned(Shape{in + kGuard});
    kernels::launch_bilinear_resize_forward(d, gx.data(), gy.data(), ctx.stream());
    kernels::launch_bilinear_resize_backward(d, gdy.data(), gdx.data(), ctx.stream());
    const std::vector<float> got_y = gy.to_vector(ctx.stream()),
                             got_dx = gdx.to_vector(ctx.stream());
    // The GPU may contract a*b + c into FMAs: a few roundings of difference.
    EXPECT_TRUE(Near("forward", {got_y.begin(), got_y.begin() + out}, y, 1e-5, 1e-6));
    EXPECT_TRUE(Near("backward", {got_dx.begin(), got_dx.begin() + in}, dx, 1e-5, 1e-5));
    EXPECT_EQ(test::WrittenIn(got_y, out, out + kGuard), 0);
    EXPECT_EQ(test::WrittenIn(got_dx, in, in + kGuard), 0);
  }
}

// Runs a built layer pair (one per device) forward and backward on the same data.
struct LayerRun {
  std::vector<float> y, dx;
};
LayerRun run_layer(Layer& layer, Device device, const Tensor& x_host, const Tensor& dy_host,
                   const Shape& y_shape, Context& ctx) {
  Tensor x = x_host.to(device), dy = dy_host.to(device);
  Tensor y(y_shape, device), dx(x_host.shape(), device);
  y.fill(test::kNaN);
  dx.fill(test::kNaN);
  layer.forward(x, y, ctx);
  layer.backward(x, y, dy, &dx, ctx);
  return {y.to_vector(ctx.stream()), dx.to_vector(ctx.stream())};
}

// cuDNN's padded max pooling ignores the padding like the CPU loops (negative inputs would
// show a zero padding), and its average mode counts the padding.
TEST_F(GpuNewOps, PaddedPoolingMatchesCpu) {
  Context gctx(Device::CUDA), cctx(Device::CPU);
  for (const PoolMode mode : {PoolMode::Max, PoolMode::Average}) {
    SCOPED_TRACE(mode == PoolMode::Max ? "max" : "average");
    const Shape in{3, 4, 9, 8};
    Pool2d gpu(mode, 3, 2, 1), cpu(mode, 3, 2, 1);
    Rng r1(0), r2(0);
    const Shape out = cpu.build(in, Device::CPU, r1);
    gpu.build(in, Device::CUDA, r2);
    // Distinct values (a clear maximum per window), negative ones included.
    std::vector<float> v(static_cast<size_t>(numel_of(in)));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = 0.01f * static_cast<float>((i * 37) % v.size()) - 3.0f;
    const Tensor x = Tensor::from_vector(v, in, Device::CPU);
    const Tensor dy = test::HostUniform(out, 8);
    const LayerRun c = run_layer(cpu, Device::CPU, x, dy, out, cctx);
    const LayerRun g = run_layer(gpu, Device::CUDA, x, dy, out, gctx);
    EXPECT_TRUE(Near("forward", g.y, c.y, 1e-6, 1e-6));
    EXPECT_TRUE(Near("backward", g.dx, c.dx, 1e-6, 1e-6));
  }
}

// Conv2d reading a channel slice of one buffer and writing a channel slice of another (the
// dense block's pattern), on cuDNN with strided descriptors, against the CPU on the same views.
// Offsets of 3 and 5 channels of 5x5 leave the slices only 4-byte aligned; 64 channels of 3x3
// (DenseNet's last block at 96x96) keep them 16-byte aligned.
TEST_F(GpuNewOps, StridedConvViewsMatchCpu) {
  struct Case {
    int64_t cin, cout, k, hw, x_total, x_begin, y_total, y_begin;
  };
  Context gctx(Device::CUDA), cctx(Device::CPU);
  for (const Case c : {Case{3, 2, 3, 5, 6, 2, 7, 5}, Case{64, 32, 3, 3, 160, 0, 160, 64},
                       Case{5, 4, 1, 4, 9, 3, 4, 0}}) {
    SCOPED_TRACE("conv " + std::to_string(c.cin) + "->" + std::to_string(c.cout) + " k" +
                 std::to_string(c.k));
    const int64_t built = 4;
    Conv2d gconv({c.cin, c.cout, c.k, 1, c.k / 2}), cconv({c.cin, c.cout, c.k, 1, c.k / 2});
    Rng r1(9), r2(9);
    cconv.build({built, c.cin, c.hw, c.hw}, Device::CPU, r1);
    gconv.build({built, c.cin, c.hw, c.hw}, Device::CUDA, r2);
    test::PerturbParametersAlike(cconv.parameters(), gconv.parameters(), 31);  // bias != 0
    for (const int64_t n : {built, int64_t{3}}) {  // a plan per batch size
      SCOPED_TRACE("batch " + std::to_string(n));
      const Shape xs{n, c.x_total, c.hw, c.hw}, ys{n, c.y_total, c.hw, c.hw};
      const Tensor xh = test::HostUniform(xs, 10), dyh = test::HostUniform(ys, 11);
      std::vector<std::vector<float>> result[2];  // y buffer, dx buffer, dW, db per device
      for (int dev = 0; dev < 2; ++dev) {
        const Device device = dev == 0 ? Device::CPU : Device::CUDA;
        Context& ctx = dev == 0 ? cctx : gctx;
        Conv2d& conv = dev == 0 ? cconv : gconv;
        Tensor x = xh.to(device), dy = dyh.to(device), y(ys, device), dx(xs, device);
        y.fill(test::kNaN);
        dx.fill(test::kNaN);
        const BatchView xv = BatchView::of(x).channels(c.x_begin, c.cin);
        const BatchView yv = BatchView::of(y).channels(c.y_begin, c.cout);
        const BatchView dyv = BatchView::of(dy).channels(c.y_begin, c.cout);
        const BatchView dxv = BatchView::of(dx).channels(c.x_begin, c.cin);
        conv.forward_view(xv, yv, ctx);
        conv.backward_view(xv, dyv, &dxv, ctx);
        result[dev] = {y.to_vector(ctx.stream()), dx.to_vector(ctx.stream()),
                       conv.parameters()[0].grad->to_vector(ctx.stream()),
                       conv.parameters()[1].grad->to_vector(ctx.stream())};
      }
      const auto& cpu = result[0];
      const auto& gpu = result[1];
      // The slices must agree; everything around them must stay NaN on the GPU.
      const int64_t plane = c.hw * c.hw;
      // Absolute tolerance relative to the largest value: cuDNN may pick Winograd or FFT
      // algorithms, whose error scales with the tensor's magnitude, not each element's.
      // 1e-4 as in the packed layer checks (test_gpu_ops.cpp), which run the same algorithms.
      const double y_atol = 1e-4 * (1.0 + test::MaxAbs(cpu[0])),
                   dx_atol = 1e-4 * (1.0 + test::MaxAbs(cpu[1]));
      for (int64_t i = 0; i < n; ++i) {
        const size_t yb = static_cast<size_t>((i * c.y_total + c.y_begin) * plane);
        const size_t xb = static_cast<size_t>((i * c.x_total + c.x_begin) * plane);
        const size_t ylen = static_cast<size_t>(c.cout * plane),
                     xlen = static_cast<size_t>(c.cin * plane);
        EXPECT_TRUE(Near("y sample " + std::to_string(i),
                         {gpu[0].begin() + yb, gpu[0].begin() + yb + ylen},
                         {cpu[0].begin() + yb, cpu[0].begin() + yb + ylen}, 1e-4, y_atol));
        EXPECT_TRUE(Near("dx sample " + std::to_string(i),
                         {gpu[1].begin() + xb, gpu[1].begin() + xb + xlen},
                         {cpu[1].begin() + xb, cpu[1].begin() + xb + xlen}, 1e-4, dx_atol));
        EXPECT_EQ(test::WrittenIn(gpu[0], i * c.y_total * plane, yb), 0) << "y before the slice";
        EXPECT_EQ(test::WrittenIn(gpu[0], yb + ylen, (i + 1) * c.y_total * plane), 0)
            << "y after the slice";
        EXPECT_EQ(test::WrittenIn(gpu[1], i * c.x_total * plane, xb), 0) << "dx before the slice";
        EXPECT_EQ(test::WrittenIn(gpu[1], xb + xlen, (i + 1) * c.x_total * plane), 0)
            << "dx after the slice";
      }
      EXPECT_TRUE(Near("dW", gpu[2], cpu[2], 1e-4, 1e-4 * test::MaxAbs(cpu[2])));
      EXPECT_TRUE(Near("db", gpu[3], cpu[3], 1e-4, 1e-4 * test::MaxAbs(cpu[3])));
    }
  }
}

// BatchNorm (fused ReLU) reading a strided slice into a packed output, and its backward adding
// into a strided slice of a gradient buffer whose other channels must keep their values.
TEST_F(GpuNewOps, StridedBatchNormViewsMatchCpu) {
  Context gctx(Device::CUDA), cctx(Device::CPU);
  BatchNormOptions relu;
  relu.fuse_relu = true;
  // 5 channels of a 9-channel buffer at 6x6 (one block per channel), and of 20x20 with a batch
  // of 16 (several blocks per channel: the combining kernels).
  for (const int64_t hw : {int64_t{6}, int64_t{20}}) {
    const int64_t n = hw == 6 ? 3 : 16, c = 5, total = 9;
    SCOPED_TRACE("hw " + std::to_string(hw));
    auto gbn = BatchNorm2d(c, relu), cbn = BatchNorm2d(c, relu);
    Rng r1(0), r2(0);
    const Shape packed{n, c, hw, hw}, buffer{n, total, hw, hw};
    cbn->build(packed, Device::CPU, r1);
    gbn->build(packed, Device::CUDA, r2);
    // gamma != 1, beta != 0: an affine step that dropped or misindexed them would pass otherwise.
    test::PerturbParametersAlike(cbn->parameters(), gbn->parameters(), 32);
    const Tensor xh = test::HostUniform(buffer, 12, -2.0f, 3.0f),
                 dyh = test::HostUniform(packed, 13);
    const Tensor gh = test::HostUniform(buffer, 14);
    std::vector<float> y[2], g[2], dgamma[2], dbeta[2];
    for (int dev = 0; dev < 2; ++dev) {
      const Device device = dev == 0 ? Device::CPU : Device::CUDA;
      Context& ctx = dev == 0 ? cctx : gctx;
      BatchNorm& bn = dev == 0 ? *cbn : *gbn;
      Tensor x = xh.to(device), dy = dyh.to(device), grad = gh.to(device), out(packed, device);
      out.fill(test::kNaN);
      const BatchView xv = BatchView::of(x).channels(0, c), gv = BatchView::of(grad).channels(0, c);
      bn.forward_view(xv, BatchView::of(out), ctx);
      bn.backward_view(xv, BatchView::of(out), BatchView::of(dy), &gv, ctx, true);
      y[dev] = out.to_vector(ctx.stream());
      g[dev] = grad.to_vector(ctx.stream());
      dgamma[dev] = bn.parameters()[0].grad->to_vector(ctx.stream());
      dbeta[dev] = bn.parameters()[1].grad->to_vector(ctx.stream());
    }
    EXPECT_TRUE(Near("y", y[1], y[0], 1e-5, 1e-5));
    EXPECT_TRUE(Near("accumulated dx buffer", g[1], g[0], 1e-4, 1e-5));
    EXPECT_TRUE(Near("dgamma", dgamma[1], dgamma[0], 1e-4, 1e-4));
    EXPECT_TRUE(Near("dbeta", dbeta[1], dbeta[0], 1e-4, 1e-4));
    const std::vector<float> initial = gh.to_vector();
    for (int64_t i = 0; i < n; ++i)  // channels [c, total) of every sample untouched
      for (int64_t j = c * hw * hw; j < total * hw * hw; ++j)
        ASSERT_EQ(g[1][i * total * hw * hw + j], initial[i * total * hw * hw + j]) << i << " " << j;
  }
}

TEST_F(GpuNewOps, DeviceTensorMemoryIsCounted) {
  const TensorMemory before = tensor_memory(Device::CUDA);
  {
    Tensor t(Shape{1 << 20}, Device::CUDA);
    const TensorMemory during = tensor_memory(Device::CUDA);
    EXPECT_EQ(during.current_bytes - before.current_bytes, int64_t{4} << 20);
    EXPECT_GE(during.peak_bytes, during.current_bytes);
  }
  EXPECT_EQ(tensor_memory(Device::CUDA).current_bytes, before.current_bytes);
}

// The busy wait `cutrain time` queues before each timed iteration: it must occupy the stream
// (else the per-layer events time the host's launches again) and end. Only a lower bound is
// checked: it is what the wait is for, and a slow machine cannot make it fail.
TEST_F(GpuNewOps, BusyWaitOccupiesTheStream) {
  Context ctx(Device::CUDA);
  kernels::launch_busy_wait(100, ctx.stream());  // module load outside the timed part
  ctx.synchronize();
  Event start, stop;
  start.record(ctx.stream());
  kernels::launch_busy_wait(20'000, ctx.stream());
  stop.record(ctx.stream());
  stop.synchronize();
  EXPECT_GE(stop.elapsed_ms_since(start), 15.0);
  EXPECT_THROW(kernels::launch_busy_wait(0, ctx.stream()), ConfigError);
  EXPECT_THROW(kernels::launch_busy_wait(1'000'001, ctx.stream()), ConfigError);
}

}  // namespace
}  // namespace cutrain
