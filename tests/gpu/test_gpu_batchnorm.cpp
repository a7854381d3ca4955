// Batch normalization on CUDA against the CPU twin: the launchers directly (training forward with
// its saved and running statistics, inference forward, backward with and without dx, plain and
// fused ReLU) over shapes that exercise one and several blocks per channel, H*W = 1, odd sizes,
// planes shorter and longer than a block, and data far from zero; then the layers through the
// public API at a narrower batch than built, and LeNet-BN training steps. GPU outputs are
// poisoned with NaN first; guard elements past the end must stay NaN. Skipped without a device.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "batchnorm.h"
#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "train/step_graphs.h"

namespace {

using cutrain::Context;
using cutrain::Device;
using cutrain::Rng;
using cutrain::Shape;
using cutrain::Tensor;
namespace kernels = cutrain::kernels;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int64_t kGuard = 37;

using GpuBatchNorm = cutrain::test::CudaTest;
using cutrain::test::MaxAbs;
using cutrain::test::TrainingSide;
using cutrain::test::Uniform;
using cutrain::test::Upload;

std::vector<float> Normal(Rng& rng, int64_t n, float offset, float scale) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = offset + scale * rng.normal();
  return v;
}

// n values and kGuard more, all NaN.
Tensor Poisoned(int64_t n, const Context& ctx) { return cutrain::test::Poisoned(n + kGuard, ctx); }

// The elements after the CPU values (the guard) must still be NaN.
::testing::AssertionResult Near(const std::string& what, const std::vector<float>& gpu,
                                const std::vector<float>& cpu, double rtol, double atol) {
  return cutrain::test::Near(what, gpu, cpu, rtol, atol, cutrain::test::Tail::kPoisoned);
}

struct KernelCase {
  int64_t n, c, s;
  float offset;  // x = offset + 2 N(0, 1)
};

void CheckKernels(const KernelCase& k, bool relu,
                  kernels::BnSchedule schedule = kernels::BnSchedule::Auto, int64_t lag = 0) {
  const kernels::BnDims d{k.n, k.c, k.s};
  kernels::BnConfig cfg{1e-5, 0.1, relu};
  cfg.schedule = schedule;
  cfg.streamed_lag = lag;
  const int64_t total = d.numel();
  Rng rng(static_cast<uint64_t>(total * 7 + k.c) + (relu ? 1 : 0));
  const std::vector<float> x = Normal(rng, total, k.offset, 2.0f), dy = Normal(rng, total, 0, 1);
  const std::vector<float> gamma = Uniform(rng, k.c, 0.5f, 1.5f),
                           beta = Uniform(rng, k.c, -.5f, .5f);
  const std::vector<float> rm0 = Uniform(rng, k.c, -1, 1), rv0 = Uniform(rng, k.c, 0.5f, 2);

  // CPU reference: training forward, inference with the updated averages, backward.
  std::vector<float> y(total), yi(total), dx(total), rm = rm0, rv = rv0, smean(k.c), sinv(k.c),
                                                     dg(k.c), db(k.c);
  kernels::BnChannels c;
  c.gamma = gamma.data(), c.beta = beta.data(), c.running_mean = rm.data();
  c.running_var = rv.data(), c.save_mean = smean.data(), c.save_inv_std = sinv.data();
  c.dgamma = dg.data(), c.dbeta = db.data();
  kernels::batchnorm_forward_train_cpu(d, cfg, c, x.data(), y.data());
  kernels::batchnorm_forward_infer_cpu(d, cfg, c, x.data(), yi.data());
  kernels::batchnorm_backward_cpu(d, cfg, c, x.data(), y.data(), dy.data(), dx.data());

  Context gpu(Device::CUDA);
  cudaStream_t st = gpu.stream();
  Tensor xg = Upload(x, gpu), dyg = Upload(dy, gpu), gg = Upload(gamma, gpu),
         bg = Upload(beta, gpu);
  Tensor rmg = Upload(rm0, gpu), rvg = Upload(rv0, gpu);
  Tensor yg = Poisoned(total, gpu), smg = Poisoned(k.c, gpu), sig = Poisoned(k.c, gpu);
  Tensor scratch = Poisoned(kernels::batchnorm_scratch_floats(d), gpu);
  kernels::BnChannels g;
  g.gamma = gg.data(), g.beta = bg.data(), g.running_mean = rmg.data();
  g.running_var = rvg.data(), g.save_mean = smg.data(), g.save_inv_std = sig.data();
  kernels::launch_batchnorm_forward_train(d, cfg, g, xg.data(), yg.data(), scratch.data(), st);
  // The GPU's mean is of float x - K (K: the channel's first value), rounded to ~1e-7 of the
  // spread (2); a float mean near 1e4 has ulps of ~1e-3: the saved mean (and so y) may be one
  // ulp apart. A wrong count or a lost block is off by far more.
  const double ulp_offset = 1.2e-7 * std::abs(k.offset);
  EXPECT_TRUE(Near("y", yg.to_vector(st), y, 1e-5, 1e-5 * MaxAbs(y) + 2 * ulp_offset));
  EXPECT_TRUE(Near("saved mean", smg.to_vector(st), smean, 2.5e-7, 2e-6));
  EXPECT_TRUE(Near("saved inv_std", sig.to_vector(st), sinv, 1e-5, 0));
  EXPECT_TRUE(Near("running mean", rmg.to_vector(st), rm, 1e-6, 2e-7));
  EXPECT_TRUE(Near("running var", rvg.to_vector(st), rv, 1e-5, 0));

  // Inference and backward get the CPU's statistics and y: checked independently of the above.
  Tensor rm_cpu = Upload(rm, gpu), rv_cpu = Upload(rv, gpu), yig = Poisoned(total, gpu);
  g.running_mean = rm_cpu.data(), g.running_var = rv_cpu.data();
  kernels::launch_batchnorm_forward_infer(d, cfg, g, xg.data(), yig.data(), st);
  EXPECT_TRUE(Near("inference y", yig.to_vector(st), yi, 1e-5, 1e-6 * MaxAbs(yi)));

  Tensor y_cpu = Upload(y, gpu), sm_cpu = Upload(smean, gpu), si_cpu = Upload(sinv, gpu);
  Tensor dxg = Poisoned(total, gpu), dgg = Poisoned(k.c, gpu), dbg = Poisoned(k.c, gpu);
  Tensor dg_only = Poisoned(k.c, gpu), db_only = Poisoned(k.c, gpu);
  g.save_mean = sm_cpu.data(), g.save_inv_std = si_cpu.data();
  g.dgamma = dgg.data(), g.dbeta = dbg.data();
  kernels::launch_batchnorm_backward(d, cfg, g, xg.data(), y_cpu.data(), dyg.data(), dxg.data(),
                                     scratch.data(), st);
  g.dgamma = dg_only.data(), g.dbeta = db_only.data();  // no dx (a first layer)
  kernels::launch_batchnorm_backward(d, cfg, g, xg.data(), y_cpu.data(), dyg.data(), nullptr,
                                     scratch.data(), st);
  // dx is gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)), a cancellation: with two
  // values a channel x_hat is +-sqrt(var / (var + eps)) and dx only eps / (var + eps) of its
  // terms, so both devices' dx are then mostly rounding noise. Each channel's tolerance is
  // therefore of its terms' size, gamma * inv_std * max|dy| (about max|dx| where N is large),
  // not of dx's own; the Near before it checks the shape and the untouched tail.
  const std::vector<float> dx_gpu = dxg.to_vector(st);
  std::vector<double> dx_atol(static_cast<size_t>(k.c), 0.0);
  for (int64_t i = 0; i < total; ++i) {
    const int64_t ch = (i / k.s) % k.c;
    dx_atol[ch] = std::max(dx_atol[ch], 1e-5 * std::abs(gamma[ch]) * sinv[ch] * std::abs(dy[i]));
  }
  EXPECT_TRUE(Near("dx", dx_gpu, dx, 1e-5, *std::max_element(dx_atol.begin(), dx_atol.end())));
  int64_t dx_off = 0;
  for (int64_t i = 0; i < total; ++i) {
    const double err = std::abs(static_cast<double>(dx_gpu[i]) - dx[i]);
    if (!(err <= 1e-5 * std::abs(dx[i]) + dx_atol[(i / k.s) % k.c]) && dx_off++ < 3)
      ADD_FAILURE() << "dx[" << i << "] = " << dx_gpu[i] << ", CPU " << dx[i];
  }
  EXPECT_EQ(dx_off, 0) << "dx elements outside their channel's tolerance";
  for (const auto& [name, t, ref] :
       {std::make_tuple("dgamma", &dgg, &dg), std::make_tuple("dbeta", &dbg, &db),
        std::make_tuple("dgamma without dx", &dg_only, &dg),
        std::make_tuple("dbeta without dx", &db_only, &db)})
    EXPECT_TRUE(Near(name, t->to_vector(st), *ref, 1e-6, 1e-6 * MaxAbs(*ref)));
}

TEST_F(GpuBatchNorm, KernelsMatchCpu) {
  const KernelCase cases[] = {
      {2, 3, 1, 0},         // the fewest values a channel can have when training
      {7, 5, 1, 0},         // BatchNorm1d, odd
      {256, 120, 1, 1e4f},  // LeNet-BN's dense BN, far from zero
      {3, 5, 63, 0},        // planes shorter than a block, stride wraps within a plane
      {5, 4, 143, 1e4f},    // 13x11
      {9, 3, 256, 0},       // plane == block: the stride is whole planes
      {33, 2, 128, 0},      // 4224 values: two blocks, the second shorter than a block
      {16, 6, 576, 0},      // LeNet-BN's first BN at batch 16: three blocks per channel
      {64, 8, 3249, 1e4f},  // 64x8x57x57: 51 blocks per channel, far from zero
      {256, 2, 9216, 0},    // 96x96 at batch 256: capped at 256 blocks of 9216 values
  };
  for (const KernelCase& k : cases)
    for (bool relu : {false, true}) {
      SCOPED_TRACE("[n, c, s] = [" + std::to_string(k.n) + ", " + std::to_string(k.c) + ", " +
                   std::to_string(k.s) + "], offset " + std::to_string(k.offset) +
                   (relu ? ", fused ReLU" : ""));
      CheckKernels(k, relu);
    }
}

// Both schedules of the training ops on shapes whose channels span several blocks; the streamed
// one also with a forced small lag, so that its interleaved order (a channel's second pass
// waiting for its first while later channels' first passes run) happens on these small tensors.
// Each launch of the backward reuses the scratch of the one before: the counters are reset.
TEST_F(GpuBatchNorm, BothSchedulesMatchCpu) {
  const KernelCase cases[] = {
      {33, 2, 128, 0},     // two blocks, the second shorter
      {16, 6, 576, 0},     // three blocks per channel
      {8, 40, 1600, 3.0f}, // 40 channels of four blocks
      {64, 8, 3249, 1e4f}, // 51 blocks per channel, far from zero
  };
  using kernels::BnSchedule;
  for (const KernelCase& k : cases)
    for (bool relu : {false, true})
      for (const auto& [schedule, lag] :
           {std::make_pair(BnSchedule::TwoPass, int64_t{0}), std::make_pair(BnSchedule::Streamed, int64_t{0}),
            std::make_pair(BnSchedule::Streamed, int64_t{1}), std::make_pair(BnSchedule::Streamed, int64_t{3})}) {
        SCOPED_TRACE("[n, c, s] = [" + std::to_string(k.n) + ", " + std::to_string(k.c) + ", " +
                     std::to_string(k.s) + "]" + (relu ? ", fused ReLU" : "") +
                     (schedule == BnSchedule::TwoPass ? ", two-pass" : ", streamed, lag ") +
                     (schedule == BnSchedule::TwoPass ? "" : std::to_string(lag)));
        CheckKernels(k, relu, schedule, lag);
      }
}

// One GPU training forward + backward with `cfg`; every output and per-channel result.
struct BnRun {
  std::vector<float> y, save_mean, save_inv_std, running_mean, running_var, dx, dgamma, dbeta;
};

BnRun RunOnGpu(const kernels::BnDims& d, const kernels::BnConfig& cfg, const std::vector<float>& x,
               const std::vector<float>& dy, const std::vector<float>& dx0,
               const std::vector<float>& gamma, const std::vector<float>& beta) {
  Context gpu(Device::CUDA);
  cudaStream_t st = gpu.stream();
  const int64_t ny = d.n * d.ys();
  Tensor xg = Upload(x, gpu), dyg = Upload(dy, gpu), dxg = Upload(dx0, gpu),
         gg = Upload(gamma, gpu), bg = Upload(beta, gpu);
  Tensor yg = Upload(std::vector<float>(ny, -7.0f), gpu);  // the gaps of a strided y keep it
  Tensor rmg = Upload(std::vector<float>(d.c, 0.5f), gpu),
         rvg = Upload(std::vector<float>(d.c, 2.0f), gpu);
  Tensor smg = Poisoned(d.c, gpu), sig = Poisoned(d.c, gpu), dgg = Poisoned(d.c, gpu),
         dbg = Poisoned(d.c, gpu), scratch = Poisoned(kernels::batchnorm_scratch_floats(d), gpu);
  kernels::BnChannels g;
  g.gamma = gg.data(), g.beta = bg.data(), g.running_mean = rmg.data();
  g.running_var = rvg.data(), g.save_mean = smg.data(), g.save_inv_std = sig.data();
  g.dgamma = dgg.data(), g.dbeta = dbg.data();
  kernels::launch_batchnorm_forward_train(d, cfg, g, xg.data(), yg.data(), scratch.data(), st);
  kernels::launch_batchnorm_backward(d, cfg, g, xg.data(), yg.data(), dyg.data(), dxg.data(),
                                     scratch.data(), st);
  return {yg.to_vector(st),  smg.to_vector(st), sig.to_vector(st), rmg.to_vector(st),
          rvg.to_vector(st), dxg.to_vector(st), dgg.to_vector(st), dbg.to_vector(st)};
}

// The CPU twin of RunOnGpu's forward (same inputs, running averages and gaps of a strided y),
// and a CPU backward from the GPU run's y and saved statistics: the backward is then checked on
// its own (a ReLU mask cannot differ by a rounding of the forward).
BnRun RunOnCpu(const kernels::BnDims& d, const kernels::BnConfig& cfg, const std::vector<float>& x,
               const std::vector<float>& dy, const std::vector<float>& dx0,
               const std::vector<float>& gamma, const std::vector<float>& beta, const BnRun& gpu) {
  BnRun r;
  r.y.assign(static_cast<size_t>(d.n * d.ys()), -7.0f);
  r.dx = dx0;
  r.running_mean.assign(static_cast<size_t>(d.c), 0.5f);
  r.running_var.assign(static_cast<size_t>(d.c), 2.0f);
  r.save_mean.resize(d.c), r.save_inv_std.resize(d.c), r.dgamma.resize(d.c), r.dbeta.resize(d.c);
  kernels::BnChannels c;
  c.gamma = gamma.data(), c.beta = beta.data(), c.running_mean = r.running_mean.data();
  c.running_var = r.running_var.data(), c.save_mean = r.save_mean.data();
  c.save_inv_std = r.save_inv_std.data(), c.dgamma = r.dgamma.data(), c.dbeta = r.dbeta.data();
  kernels::batchnorm_forward_train_cpu(d, cfg, c, x.data(), r.y.data());
  std::vector<float> gpu_mean = gpu.save_mean, gpu_inv_std = gpu.save_inv_std;
  c.save_mean = gpu_mean.data(), c.save_inv_std = gpu_inv_std.data();
  kernels::batchnorm_backward_cpu(d, cfg, c, x.data(), gpu.y.data(), dy.data(), r.dx.data());
  return r;
}

::testing::AssertionResult SameBits(const std::string& what, const std::vector<float>& a,
                                    const std::vector<float>& b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << what << ": " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure()
             << what << "[" << i << "]: " << a[i] << " (two-pass) vs " << b[i] << " (streamed)";
  return ::testing::AssertionSuccess();
}

// The streamed schedule merges the same partials in the same order as the two-pass one: the
// same bits in every output, also for strided x and y, dx accumulated, the fused ReLU and any
// lag. Both are compared with the CPU twin too: the only check of strided y and dy, and of
// accumulated dx, against the CPU at the kernel level (DenseBlock's tests reach them through
// the layers).
TEST_F(GpuBatchNorm, SchedulesGiveTheSameBits) {
  struct Case {
    kernels::BnDims d;
    bool relu, accumulate;
    int64_t lag;
    float offset;
  };
  const Case cases[] = {
      {{16, 6, 576}, false, false, 1, 0.0f},
      {{8, 40, 1600}, true, false, 3, 3.0f},
      {{8, 5, 1600, 9 * 1600, 7 * 1600}, true, true, 2, 0.0f},  // channel slices, dx +=
      {{64, 8, 3249}, false, false, 0, 1e4f},                   // lag chosen by the device
  };
  for (const Case& k : cases) {
    const kernels::BnDims& d = k.d;
    SCOPED_TRACE("[n, c, s] = [" + std::to_string(d.n) + ", " + std::to_string(d.c) + ", " +
                 std::to_string(d.s) + "], strides " + std::to_string(d.x_stride) + "/" +
                 std::to_string(d.y_stride) + ", lag " + std::to_string(k.lag));
    Rng rng(static_cast<uint64_t>(d.numel()) + 11);
    const int64_t nx = d.n * d.xs(), ny = d.n * d.ys();
    const std::vector<float> x = Normal(rng, nx, k.offset, 2.0f), dy = Normal(rng, ny, 0, 1),
                             dx0 = Normal(rng, nx, 0, 1);
    const std::vector<float> gamma = Uniform(rng, d.c, 0.5f, 1.5f),
                             beta = Uniform(rng, d.c, -.5f, .5f);
    kernels::BnConfig two_pass{1e-5, 0.1, k.relu, k.accumulate};
    two_pass.schedule = kernels::BnSchedule::TwoPass;
    kernels::BnConfig streamed = two_pass;
    streamed.schedule = kernels::BnSchedule::Streamed;
    streamed.streamed_lag = k.lag;
    {
      Context gpu(Device::CUDA);  // the current device for the query
      ASSERT_EQ(kernels::resolve_batchnorm_schedule(d, streamed, false),
                kernels::BnSchedule::Streamed);
      ASSERT_EQ(kernels::resolve_batchnorm_schedule(d, streamed, true),
                kernels::BnSchedule::Streamed);
    }
    const BnRun a = RunOnGpu(d, two_pass, x, dy, dx0, gamma, beta),
                b = RunOnGpu(d, streamed, x, dy, dx0, gamma, beta);
    EXPECT_TRUE(SameBits("y", a.y, b.y));
    EXPECT_TRUE(SameBits("saved mean", a.save_mean, b.save_mean));
    EXPECT_TRUE(SameBits("saved inv_std", a.save_inv_std, b.save_inv_std));
    EXPECT_TRUE(SameBits("running mean", a.running_mean, b.running_mean));
    EXPECT_TRUE(SameBits("running var", a.running_var, b.running_var));
    EXPECT_TRUE(SameBits("dx", a.dx, b.dx));
    EXPECT_TRUE(SameBits("dgamma", a.dgamma, b.dgamma));
    EXPECT_TRUE(SameBits("dbeta", a.dbeta, b.dbeta));
    // Tolerances as in CheckKernels; the gaps of y and dx hold their initial values on both.
    const BnRun cpu = RunOnCpu(d, two_pass, x, dy, dx0, gamma, beta, a);
    const double ulp_offset = 1.2e-7 * std::abs(k.offset);
    // Near: the per-channel GPU results carry a NaN guard (Poisoned), which must be intact.
    EXPECT_TRUE(Near("y vs cpu", a.y, cpu.y, 1e-5, 1e-5 * MaxAbs(cpu.y) + 2 * ulp_offset));
    EXPECT_TRUE(Near("saved mean vs cpu", a.save_mean, cpu.save_mean, 2.5e-7, 2e-6));
    EXPECT_TRUE(Near("saved inv_std vs cpu", a.save_inv_std, cpu.save_inv_std, 1e-5, 0));
    EXPECT_TRUE(Near("running mean vs cpu", a.running_mean, cpu.running_mean, 1e-6, 2e-7));
    EXPECT_TRUE(Near("running var vs cpu", a.running_var, cpu.running_var, 1e-5, 0));
    EXPECT_TRUE(Near("dx vs cpu", a.dx, cpu.dx, 1e-5, 1e-5 * MaxAbs(cpu.dx)));
    EXPECT_TRUE(Near("dgamma vs cpu", a.dgamma, cpu.dgamma, 1e-6, 1e-6 * MaxAbs(cpu.dgamma)));
    EXPECT_TRUE(Near("dbeta vs cpu", a.dbeta, cpu.dbeta, 1e-6, 1e-6 * MaxAbs(cpu.dbeta)));
  }
}

// The streamed schedule inside a CUDA graph: its counters are zeroed by a captured memset, so
// every replay runs the whole schedule again. Forward + backward through StepGraphs (the first
// call eager, the second captured and replayed, the third replayed) give the CPU's y and dx
// every time and the running averages of three updates.
TEST_F(GpuBatchNorm, StreamedScheduleReplaysInACudaGraph) {
  const kernels::BnDims d{8, 12, 1600};
  kernels::BnConfig cfg{1e-5, 0.1, false};
  cfg.schedule = kernels::BnSchedule::Streamed;
  cfg.streamed_lag = 2;
  constexpr int kCalls = 3;
  const int64_t total = d.numel();
  Rng rng(2024);
  const std::vector<float> x = Normal(rng, total, 1.0f, 2.0f), dy = Normal(rng, total, 0, 1);
  const std::vector<float> gamma = Uniform(rng, d.c, 0.5f, 1.5f),
                           beta = Uniform(rng, d.c, -.5f, .5f);
  std::vector<float> y(total), dx(total), rm(d.c, 0.0f), rv(d.c, 1.0f), smean(d.c), sinv(d.c),
      dg(d.c), db(d.c);
  kernels::BnChannels c;
  c.gamma = gamma.data(), c.beta = beta.data(), c.running_mean = rm.data();
  c.running_var = rv.data(), c.save_mean = smean.data(), c.save_inv_std = sinv.data();
  c.dgamma = dg.data(), c.dbeta = db.data();
  for (int call = 0; call < kCalls; ++call)
    kernels::batchnorm_forward_train_cpu(d, cfg, c, x.data(), y.data());
  kernels::batchnorm_backward_cpu(d, cfg, c, x.data(), y.data(), dy.data(), dx.data());

  Context gpu(Device::CUDA);
  cudaStream_t st = gpu.stream();
  Tensor xg = Upload(x, gpu), dyg = Upload(dy, gpu), gg = Upload(gamma, gpu),
         bg = Upload(beta, gpu), rmg = Upload(std::vector<float>(d.c, 0.0f), gpu),
         rvg = Upload(std::vector<float>(d.c, 1.0f), gpu);
  Tensor yg = Poisoned(total, gpu), dxg = Poisoned(total, gpu), smg = Poisoned(d.c, gpu),
         sig = Poisoned(d.c, gpu), dgg = Poisoned(d.c, gpu), dbg = Poisoned(d.c, gpu);
  Tensor scratch = Poisoned(kernels::batchnorm_scratch_floats(d), gpu);
  kernels::BnChannels g;
  g.gamma = gg.data(), g.beta = bg.data(), g.running_mean = rmg.data();
  g.running_var = rvg.data(), g.save_mean = smg.data(), g.save_inv_std = sig.data();
  g.dgamma = dgg.data(), g.dbeta = dbg.data();
  cutrain::detail::StepGraphs graphs(/*enabled=*/true, gpu);
  for (int call = 0; call < kCalls; ++call) {
    SCOPED_TRACE("call " + std::to_string(call + 1));
    yg.fill(kNaN, st);
    dxg.fill(kNaN, st);
    graphs.run(1, [&] {
      kernels::launch_batchnorm_forward_train(d, cfg, g, xg.data(), yg.data(), scratch.data(), st);
      kernels::launch_batchnorm_backward(d, cfg, g, xg.data(), yg.data(), dyg.data(), dxg.data(),
                                         scratch.data(), st);
    });
    EXPECT_TRUE(Near("y", yg.to_vector(st), y, 1e-5, 1e-5 * MaxAbs(y)));
    EXPECT_TRUE(Near("dx", dxg.to_vector(st), dx, 1e-5, 1e-5 * MaxAbs(dx)));
  }
  EXPECT_EQ(graphs.failed_captures(), 0);
  EXPECT_EQ(graphs.captures(), 1);
  EXPECT_EQ(graphs.replays(), 2);
  EXPECT_TRUE(Near("running mean after three", rmg.to_vector(st), rm, 1e-6, 1e-7));
  EXPECT_TRUE(Near("running var after three", rvg.to_vector(st), rv, 1e-5, 0));
  EXPECT_TRUE(Near("saved mean", smg.to_vector(st), smean, 2.5e-7, 2e-6));
  EXPECT_TRUE(Near("saved inv_std", sig.to_vector(st), sinv, 1e-5, 0));
  EXPECT_TRUE(Near("dgamma", dgg.to_vector(st), dg, 1e-6, 1e-6 * MaxAbs(dg)));
  EXPECT_TRUE(Near("dbeta", dbg.to_vector(st), db, 1e-6, 1e-6 * MaxAbs(db)));
}

// The layer on both devices (same parameters): training forward at a batch narrower than built,
// backward, the running buffers, then an evaluation-mode forward.
void CheckLayer(int spatial, int64_t channels, const Shape& built, int64_t n, bool relu) {
  Context cpu(Device::CPU), gpu(Device::CUDA);
  cudaStream_t st = gpu.stream();
  cutrain::BatchNorm lc(spatial, channels, {0.1, 1e-5, relu}),
      lg(spatial, channels, {0.1, 1e-5, relu});
  Rng rc(1), rg(1), data(77);
  lc.build(built, Device::CPU, rc);
  lg.build(built, Device::CUDA, rg);
  for (size_t i = 0; i < 2; ++i) {  // random gamma and beta, equal on both
    const std::vector<float> v = Uniform(data, channels, 0.5f, 1.5f);
    lc.parameters()[i].value->copy_from_host(v.data(), channels);
    lg.parameters()[i].value->copy_from_host(v.data(), channels);
  }
  Shape in = built;
  in[0] = n;
  const int64_t m = cutrain::numel_of(in);
  Tensor xc = Tensor::from_vector(Normal(data, m, 3.0f, 2.0f), in, Device::CPU);
  Tensor dyc = Tensor::from_vector(Normal(data, m, 0.0f, 1.0f), in, Device::CPU);
  Tensor xg = xc.to(Device::CUDA, st), dyg = dyc.to(Device::CUDA, st);
  Tensor yc(in, Device::CPU), dxc(in, Device::CPU), yg(built, Device::CUDA),
      dxg(built, Device::CUDA);
  yg.fill(kNaN, st);
  dxg.fill(kNaN, st);
  Tensor ygn = yg.narrow_batch(n), dxgn = dxg.narrow_batch(n);
  lc.forward(xc, yc, cpu);
  lc.backward(xc, yc, dyc, &dxc, cpu);
  lg.forward(xg, ygn, gpu);
  lg.backward(xg, ygn, dyg, &dxgn, gpu);
  const std::vector<float> y = yc.to_vector(), dx = dxc.to_vector();
  EXPECT_TRUE(Near("y", yg.to_vector(st), y, 1e-5, 1e-5 * MaxAbs(y)));
  EXPECT_TRUE(Near("dx", dxg.to_vector(st), dx, 1e-5, 1e-5 * MaxAbs(dx)));
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<float> ref = lc.parameters()[i].grad->to_vector();
    EXPECT_TRUE(Near(lc.parameters()[i].name + " grad", lg.parameters()[i].grad->to_vector(st), ref,
                     1e-6, 1e-6 * MaxAbs(ref)));
    const std::vector<float> buf = lc.buffers()[i].tensor->to_vector();
    EXPECT_TRUE(Near(lc.buffers()[i].name, lg.buffers()[i].tensor->to_vector(st), buf, 1e-5, 1e-7));
  }
  lc.set_training(false);
  lg.set_training(false);
  yg.fill(kNaN, st);
  lc.forward(xc, yc, cpu);
  lg.forward(xg, ygn, gpu);
  const std::vector<float> yi = yc.to_vector();
  EXPECT_TRUE(Near("inference y", yg.to_vector(st), yi, 1e-5, 1e-5 * MaxAbs(yi)));
}

TEST_F(GpuBatchNorm, LayersMatchCpu) {
  for (bool relu : {false, true}) {
    SCOPED_TRACE(relu ? "fused ReLU" : "plain");
    CheckLayer(0, 37, {16, 37}, 10, relu);
    CheckLayer(2, 6, {8, 6, 9, 7}, 5, relu);
    CheckLayer(2, 3, {40, 3, 17, 19}, 33, relu);  // several blocks per channel
  }
}

// Precise BN on the device: in cumulative mode the k-th training forward averages with weight
// 1/k, as on the CPU (the momentum reaches the kernels with every launch).
TEST_F(GpuBatchNorm, CumulativeStatisticsMatchCpu) {
  Context cpu(Device::CPU), gpu(Device::CUDA);
  cudaStream_t st = gpu.stream();
  const Shape built{8, 6, 9, 7};
  cutrain::BatchNorm lc(2, 6), lg(2, 6);
  Rng rc(1), rg(1), data(78);
  lc.build(built, Device::CPU, rc);
  lg.build(built, Device::CUDA, rg);
  lc.set_cumulative_statistics(true);
  lg.set_cumulative_statistics(true);
  Tensor yc(built, Device::CPU), yg(built, Device::CUDA);
  for (int k = 0; k < 3; ++k) {
    Tensor xc = Tensor::from_vector(
        Normal(data, cutrain::numel_of(built), 2.0f * k - 1.0f, 1.0f + k), built, Device::CPU);
    Tensor xg = xc.to(Device::CUDA, st);
    lc.forward(xc, yc, cpu);
    lg.forward(xg, yg, gpu);
    gpu.synchronize();  // xg dies here
  }
  for (size_t i = 0; i < 2; ++i) {
    const std::vector<float> want = lc.buffers()[i].tensor->to_vector();
    EXPECT_TRUE(
        Near(lc.buffers()[i].name, lg.buffers()[i].tensor->to_vector(st), want, 1e-5, 1e-7));
  }
}

// Three SGD steps of LeNet-BN (lr 1.0, as in the book) from one seed on both devices, then an
// evaluation-mode forward: BN's statistics flow through every layer of both passes.
TEST_F(GpuBatchNorm, LenetBnStepsMatchCpu) {
  const int64_t batch = 16;
  TrainingSide cpu(Device::CPU, "lenet-bn", batch, 1.0), gpu(Device::CUDA, "lenet-bn", batch, 1.0);
  for (int step = 0; step < 4; ++step) {
    SCOPED_TRACE(step < 3 ? "training step " + std::to_string(step + 1) : "evaluation");
    Rng rng(500 + step);
    const std::vector<float> images = Uniform(rng, batch * 784, 0, 1);
    std::vector<float> labels(batch);
    for (float& l : labels) l = static_cast<float>(rng.below(10));
    std::vector<std::vector<float>> logits, grads;
    for (TrainingSide* s : {&cpu, &gpu}) {
      cudaStream_t st = s->ctx.stream();
      const Device dev = s->ctx.device();
      Tensor x = Tensor::from_vector(images, {batch, 1, 28, 28}, Device::CPU).to(dev, st);
      Tensor y = Tensor::from_vector(labels, {batch}, Device::CPU).to(dev, st);
      s->net.set_training(step < 3);
      const Tensor& out = s->net.forward(x, s->ctx);
      s->loss.forward(out, y, step < 3 ? &s->net.output_grad() : nullptr, s->sums.data(), s->ctx);
      logits.push_back(out.to_vector(st));
      if (step < 3) {
        s->net.backward(s->ctx);
        for (const cutrain::Parameter& p : s->net.parameters())
          grads.push_back(p.grad->to_vector(st));
        s->opt->step(s->ctx);
      }
      s->ctx.synchronize();  // x and y die here
    }
    // Loose: BN divides by batch standard deviations, so float differences are amplified
    // through the layers; a real defect is off by far more.
    EXPECT_TRUE(Near("logits", logits[1], logits[0], 1e-3, 1e-3 * MaxAbs(logits[0])));
    // The biases of the layers before each BN have a zero gradient in exact arithmetic (BN's dx
    // sums to zero over a channel), so each side's is its own rounding noise: a tensor's
    // tolerance is relative to the largest gradient of the net at least (GradScales).
    const size_t half = grads.size() / 2;
    const std::vector<std::vector<float>> cpu_grads(grads.begin(), grads.begin() + half);
    const std::vector<double> scale = cutrain::test::GradScales(cpu_grads, 1e-2);
    for (size_t i = 0; i < half; ++i)
      EXPECT_TRUE(Near(cpu.net.parameters()[i].name + " grad", grads[half + i], grads[i], 1e-3,
                       1e-3 * scale[i]));
  }
}

}  // namespace
