// Whole training steps of the registered LeNets on CUDA against the same steps on the CPU: one
// seed builds equal models on both devices; each step runs forward, the fused softmax
// cross-entropy into model.output_grad(), backward and an SGD step, and the logits, the loss
// sums, every parameter gradient and every updated parameter must agree. cuDNN runs with FMA
// math (no TF32) and cuBLAS in full float32, so rtol 1e-4 holds. Skipped without a usable device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/models/sequential.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/parameter.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"
#include "support/compare.h"
#include "support/cuda_test.h"

namespace {

using cutrain::Context;
using cutrain::Device;
using cutrain::Parameter;
using cutrain::Rng;
using cutrain::Shape;
using cutrain::Tensor;

constexpr int64_t kMaxBatch = 16;
constexpr double kLr = 0.1;
constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-5;      // logits, loss sum, parameters: absolute
constexpr double kGradAtol = 1e-4;  // gradients: relative to each tensor's largest |value|

using GpuTraining = cutrain::test::CudaTest;
using cutrain::test::kNaN;
using cutrain::test::MaxAbs;
using cutrain::test::Near;
using cutrain::test::TrainingSide;

struct StepResult {
  std::vector<float> logits, sums;
  // In net.parameters() order; before/params: the values before and after the optimizer step.
  std::vector<std::vector<float>> grads, before, params;
};

// One training step on x [n, 1, 28, 28] and labels [n] (host tensors). Gradients and sums are
// poisoned first, so anything the step fails to write shows up as NaN.
StepResult Step(TrainingSide& s, const Tensor& x_host, const Tensor& labels_host) {
  const Device device = s.ctx.device();
  cudaStream_t stream = s.ctx.stream();
  Tensor x = x_host.to(device, stream), labels = labels_host.to(device, stream);
  std::vector<Parameter> params = s.net.parameters();
  s.sums.fill(kNaN, stream);
  for (Parameter& p : params) p.grad->fill(kNaN, stream);

  const Tensor& logits = s.net.forward(x, s.ctx);
  s.loss.forward(logits, labels, &s.net.output_grad(), s.sums.data(), s.ctx);
  s.net.backward(s.ctx);
  StepResult r;
  r.logits = logits.to_vector(stream);
  r.sums = s.sums.to_vector(stream);
  for (const Parameter& p : params) {
    r.grads.push_back(p.grad->to_vector(stream));
    r.before.push_back(p.value->to_vector(stream));
  }
  s.opt->step(s.ctx);
  for (const Parameter& p : params) r.params.push_back(p.value->to_vector(stream));
  s.ctx.synchronize();  // x and labels die here
  return r;
}

// Runs one step per entry of `batches` (each <= kMaxBatch, fresh random data) on equal CPU and
// CUDA models, comparing everything after each step.
void RunSteps(const std::string& model, const std::vector<int64_t>& batches) {
  TrainingSide cpu(Device::CPU, model, kMaxBatch, kLr), gpu(Device::CUDA, model, kMaxBatch, kLr);
  const std::vector<Parameter> pc = cpu.net.parameters(), pg = gpu.net.parameters();
  ASSERT_EQ(pc.size(), pg.size());
  ASSERT_FALSE(pc.empty());
  // Seed 0 on both: equal initial parameters. Reading on the default stream also waits for the
  // initialisation that build() queued there.
  for (size_t i = 0; i < pc.size(); ++i) {
    ASSERT_EQ(pc[i].name, pg[i].name);
    ASSERT_TRUE(Near(pc[i].name + " initial value", pg[i].value->to_vector(),
                     pc[i].value->to_vector(), 0, 0));
  }

  for (size_t step = 0; step < batches.size(); ++step) {
    const int64_t n = batches[step];
    SCOPED_TRACE(model + ", step " + std::to_string(step + 1) + " at batch " + std::to_string(n));
    Rng rng(1000 + step);
    std::vector<float> images(static_cast<size_t>(n * 28 * 28)), labels(static_cast<size_t>(n));
    for (float& v : images) v = rng.uniform();
    for (float& v : labels) v = static_cast<float>(rng.below(10));
    const Tensor x = Tensor::from_vector(images, Shape{n, 1, 28, 28}, Device::CPU);
    const Tensor y = Tensor::from_vector(labels, Shape{n}, Device::CPU);

    const StepResult c = Step(cpu, x, y);
    const StepResult g = Step(gpu, x, y);
    ASSERT_EQ(c.logits.size(), static_cast<size_t>(n * 10));
    EXPECT_TRUE(Near("logits", g.logits, c.logits, kRtol, kAtol));
    EXPECT_TRUE(Near("loss sum", {g.sums[0]}, {c.sums[0]}, kRtol, kAtol));
    // A prediction may flip only where two CPU logits are within the logits' tolerance (twice:
    // both may move); the device-side count of correct predictions follows the predictions.
    const double margin = 2.0 * (kAtol + kRtol * MaxAbs(c.logits));
    EXPECT_TRUE(cutrain::test::SamePredictions("predictions", g.logits, c.logits, 10, margin));
    EXPECT_LE(std::abs(g.sums[1] - c.sums[1]),
              static_cast<float>(cutrain::test::NearTies(c.logits, 10, margin)))
        << "correct predictions: GPU " << g.sums[1] << ", CPU " << c.sums[1];
    EXPECT_TRUE(std::isfinite(c.sums[0]) && c.sums[0] > 0.0f) << "CPU loss sum " << c.sums[0];
    for (size_t i = 0; i < pc.size(); ++i) {
      // Gradient scales differ by orders of magnitude between layers (sigmoid LeNet's first
      // layers get ~1e-4): a fixed atol would let their gradients pass unchecked.
      EXPECT_TRUE(Near(pc[i].name + " grad", g.grads[i], c.grads[i], kRtol,
                       kGradAtol * MaxAbs(c.grads[i])));
      EXPECT_TRUE(Near(pc[i].name + " after the step", g.params[i], c.params[i], kRtol, kAtol));
    }
    // The update itself (after - before) of every tensor, relative to its largest element: small
    // updates (the first layers' are ~1e-5) hide inside kAtol above, so a GPU step that skipped
    // a tensor or scaled its lr wrongly would pass there. 2 % covers the cancellation in
    // after - before (|x| ~ 0.1: a float ulp is ~1e-8 against updates of >= ~1e-6).
    for (size_t i = 0; i < pc.size(); ++i) {
      std::vector<float> dc(c.params[i].size()), dg(g.params[i].size());
      for (size_t j = 0; j < dc.size(); ++j) dc[j] = c.params[i][j] - c.before[i][j];
      for (size_t j = 0; j < dg.size(); ++j) dg[j] = g.params[i][j] - g.before[i][j];
      EXPECT_GT(MaxAbs(dc), 0.0) << pc[i].name << ": the CPU step did not move it";
      EXPECT_TRUE(Near(pc[i].name + " update", dg, dc, 2e-2, 2e-2 * MaxAbs(dc)));
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_F(GpuTraining, LenetStepMatchesCpu) { RunSteps("lenet", {kMaxBatch}); }

TEST_F(GpuTraining, LenetPartialBatchStepMatchesCpu) { RunSteps("lenet", {10}); }

TEST_F(GpuTraining, LenetClassicStepMatchesCpu) { RunSteps("lenet-classic", {kMaxBatch}); }

TEST_F(GpuTraining, LenetClassicPartialBatchStepMatchesCpu) { RunSteps("lenet-classic", {10}); }

// Errors must not grow out of tolerance over consecutive steps, including a partial batch in
// between (cuDNN keeps one plan per batch size).
TEST_F(GpuTraining, LenetThreeStepsStayWithinTolerance) { RunSteps("lenet", {16, 10, 16}); }

TEST_F(GpuTraining, LenetClassicThreeStepsStayWithinTolerance) {
  RunSteps("lenet-classic", {16, 10, 16});
}

}  // namespace
