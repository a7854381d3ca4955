// ResNet-18 and DenseNet on CUDA against the CPU: the residual and dense blocks alone (forward,
// dx and every parameter gradient, at the built batch and a smaller one), one and two training
// steps of each whole model (logits, loss, gradients, updated parameters), the trainer's
// --resize path on the device (also with --tf32, loosely), and the peak tensor memory of a
// d2l-sized DenseNet batch.
// cuDNN runs with FMA math (but for the TF32 test) and deterministic backward algorithms; the
// tolerances are looser
// than LeNet's because 20-odd layers with batch statistics over few values amplify rounding.
// Skipped without a usable device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/memory_stats.h"
#include "cutrain/models/dense_block.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/residual_block.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/train/trainer.h"
#include "support/compare.h"
#include "support/cuda_test.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

using test::kNaN;
using test::MaxAbs;
using test::Near;

using GpuResNetDenseNet = test::CudaTest;

// --- single blocks ----------------------------------------------------------------------------

struct BlockResult {
  std::vector<float> y, dx;
  std::vector<std::vector<float>> grads;
};

BlockResult run_block(Layer& layer, Device device, const Tensor& x_host, const Tensor& dy_host,
                      Context& ctx) {
  Tensor x = x_host.to(device), dy = dy_host.to(device);
  Tensor y(dy_host.shape(), device), dx(x_host.shape(), device);
  y.fill(kNaN);
  dx.fill(kNaN);
  for (const Parameter& p : layer.parameters()) p.grad->fill(kNaN);
  layer.forward(x, y, ctx);
  layer.backward(x, y, dy, &dx, ctx);
  BlockResult r{y.to_vector(ctx.stream()), dx.to_vector(ctx.stream()), {}};
  for (const Parameter& p : layer.parameters()) r.grads.push_back(p.grad->to_vector(ctx.stream()));
  return r;
}

void compare_block(const std::function<std::unique_ptr<Layer>()>& make, const Shape& built) {
  Context gctx(Device::CUDA), cctx(Device::CPU);
  std::unique_ptr<Layer> cpu = make(), gpu = make();
  Rng r1(7), r2(7);
  Shape out = cpu->build(built, Device::CPU, r1);
  gpu->build(built, Device::CUDA, r2);
  test::PerturbParametersAlike(cpu->parameters(), gpu->parameters(), 33);  // BN not identity
  const std::vector<Parameter> names = cpu->parameters();
  for (const int64_t n : {built[0], built[0] - 1}) {
    SCOPED_TRACE(cpu->kind() + " at batch " + std::to_string(n));
    Shape in = built, o = out;
    in[0] = o[0] = n;
    const Tensor x = test::HostUniform(in, 20 + n, -1.0f, 1.5f), dy = test::HostUniform(o, 30 + n);
    const BlockResult c = run_block(*cpu, Device::CPU, x, dy, cctx);
    const BlockResult g = run_block(*gpu, Device::CUDA, x, dy, gctx);
    EXPECT_TRUE(Near("y", g.y, c.y, 1e-4, 1e-5 * (1.0 + MaxAbs(c.y))));
    EXPECT_TRUE(Near("dx", g.dx, c.dx, 1e-3, 1e-4 * MaxAbs(c.dx)));
    // Conv biases before a BatchNorm have zero gradients up to rounding noise: the tolerance of
    // a tensor is relative to the block's largest gradient at least (see GradScales).
    const std::vector<double> scale = test::GradScales(c.grads, 1e-2);
    for (size_t i = 0; i < names.size(); ++i)
      EXPECT_TRUE(Near(names[i].name + " grad", g.grads[i], c.grads[i], 1e-3, 1e-3 * scale[i]));
  }
}

TEST_F(GpuResNetDenseNet, ResidualBlocksMatchCpu) {
  compare_block(
      [] {
        return std::make_unique<ResidualBlock>(ResidualBlockOptions{8, 8, 1});
      },
      {4, 8, 7, 7});
  compare_block(
      [] {
        return std::make_unique<ResidualBlock>(ResidualBlockOptions{8, 16, 2, true});
      },
      {4, 8, 7, 6});
  compare_block(
      [] {
        return std::make_unique<ResidualBlock>(ResidualBlockOptions{3, 4, 2, true, true});
      },
      {3, 3, 5, 5});
}

TEST_F(GpuResNetDenseNet, DenseBlocksMatchCpu) {
  // Odd channel counts on 6x6 planes (slices 16-byte aligned, as in the models), on 5x5 planes
  // (slices at 100-byte steps: only 4-byte aligned, a layout cuDNN may refuse for some
  // algorithms, which Conv2d must then step past), and DenseNet's own block 4 at 96x96 (3x3).
  compare_block(
      [] {
        return std::make_unique<DenseBlock>(DenseBlockOptions{5, 4, 3});
      },
      {4, 5, 6, 6});
  compare_block(
      [] {
        return std::make_unique<DenseBlock>(DenseBlockOptions{5, 4, 3});
      },
      {4, 5, 5, 5});
  compare_block(
      [] {
        return std::make_unique<DenseBlock>(DenseBlockOptions{120, 32, 4});
      },
      {4, 120, 3, 3});
}

// --- whole training steps -------------------------------------------------------------------

constexpr int64_t kMaxBatch = 8;
constexpr double kLr = 0.1;

struct StepResult {
  std::vector<float> logits, sums;
  std::vector<std::vector<float>> grads, params;
};

StepResult step(test::TrainingSide& s, const Tensor& x_host, const Tensor& labels_host) {
  cudaStream_t stream = s.ctx.stream();
  Tensor x = x_host.to(s.ctx.device(), stream), labels = labels_host.to(s.ctx.device(), stream);
  std::vector<Parameter> params = s.net.parameters();
  s.sums.fill(kNaN, stream);
  for (Parameter& p : params) p.grad->fill(kNaN, stream);
  const Tensor& logits = s.net.forward(x, s.ctx);
  s.loss.forward(logits, labels, &s.net.output_grad(), s.sums.data(), s.ctx);
  s.net.backward(s.ctx);
  StepResult r;
  r.logits = logits.to_vector(stream);
  r.sums = s.sums.to_vector(stream);
  for (const Parameter& p : params) r.grads.push_back(p.grad->to_vector(stream));
  s.opt->step(s.ctx);
  for (const Parameter& p : params) r.params.push_back(p.value->to_vector(stream));
  s.ctx.synchronize();
  return r;
}

void run_steps(const std::string& model, const std::vector<int64_t>& batches) {
  test::TrainingSide cpu(Device::CPU, model, kMaxBatch, kLr),
      gpu(Device::CUDA, model, kMaxBatch, kLr);
  const std::vector<Parameter> pc = cpu.net.parameters(), pg = gpu.net.parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    ASSERT_EQ(pc[i].name, pg[i].name);
    ASSERT_TRUE(
        Near(pc[i].name + " initial", pg[i].value->to_vector(), pc[i].value->to_vector(), 0, 0));
  }
  for (size_t k = 0; k < batches.size(); ++k) {
    const int64_t n = batches[k];
    SCOPED_TRACE(model + ", step " + std::to_string(k + 1) + " at batch " + std::to_string(n));
    Rng rng(500 + k);
    std::vector<float> labels(static_cast<size_t>(n));
    for (float& v : labels) v = static_cast<float>(rng.below(10));
    const Tensor x = test::HostUniform({n, 1, 28, 28}, 600 + k, 0.0f, 1.0f);
    const Tensor y = Tensor::from_vector(labels, {n}, Device::CPU);
    const StepResult c = step(cpu, x, y);
    const StepResult g = step(gpu, x, y);
    // Measured on the CPU, a 1e-7 relative change of every weight (rounding of the kind the GPU
    // adds) moves these logits by up to 3e-5, the gradients by up to 5e-5 of their tensor's
    // scale, and the gradients that are zero but for rounding noise (conv biases before BN, the
    // stem BN's scale in DenseNet, whose consumers all normalise again) by up to 1.2e-6 of the
    // model's largest gradient. The bounds leave a margin of 10 or more and still catch any
    // real defect, which is off by far more.
    EXPECT_TRUE(Near("logits", g.logits, c.logits, 1e-3, 1e-4 * (1.0 + MaxAbs(c.logits))));
    EXPECT_TRUE(Near("loss sum", {g.sums[0]}, {c.sums[0]}, 1e-4, 1e-5));
    // A prediction may flip only where two CPU logits are within twice the logits' tolerance.
    const double margin = 2.0 * (1e-3 * MaxAbs(c.logits) + 1e-4 * (1.0 + MaxAbs(c.logits)));
    EXPECT_TRUE(test::SamePredictions("predictions", g.logits, c.logits, 10, margin));
    EXPECT_LE(std::abs(g.sums[1] - c.sums[1]),
              static_cast<float>(test::NearTies(c.logits, 10, margin)))
        << "correct predictions: GPU " << g.sums[1] << ", CPU " << c.sums[1];
    const std::vector<double> scale = test::GradScales(c.grads, 1e-2);
    for (size_t i = 0; i < pc.size(); ++i) {
      const double grad_atol = 1e-3 * scale[i];
      EXPECT_TRUE(Near(pc[i].name + " grad", g.grads[i], c.grads[i], 1e-3, grad_atol));
      EXPECT_TRUE(Near(pc[i].name + " after the step", g.params[i], c.params[i], 1e-5,
                       1e-6 * (1.0 + MaxAbs(c.params[i])) + kLr * grad_atol));
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST_F(GpuResNetDenseNet, ResNet18StepMatchesCpu) { run_steps("resnet18", {kMaxBatch}); }

TEST_F(GpuResNetDenseNet, DenseNetStepMatchesCpu) { run_steps("densenet", {kMaxBatch}); }

// A full batch, then the last partial batch of an epoch (new cuDNN plans for the strided dense
// block slices at that batch size).
TEST_F(GpuResNetDenseNet, DenseNetTwoStepsWithPartialBatch) { run_steps("densenet", {8, 5}); }

TEST_F(GpuResNetDenseNet, ResNet18TwoStepsWithPartialBatch) { run_steps("resnet18", {8, 5}); }

// --- the trainer's --resize on the device ----------------------------------------------------

// One epoch (two steps of 8, then evaluation) of each model with --resize on the device against
// the CPU; `rel` bounds the losses' relative difference.
void ExpectResizedEpochNearCpu(Float32Math math, double rel) {
  const data::ImageDataset train = test::separable_images(16, 41);
  const data::ImageDataset test_set = test::separable_images(12, 42);
  for (const char* name : {"resnet18", "densenet"}) {
    SCOPED_TRACE(name);
    EpochMetrics m[2];
    for (int dev = 0; dev < 2; ++dev) {
      const Device device = dev == 0 ? Device::CPU : Device::CUDA;
      Context ctx(device, device == Device::CUDA ? math : Float32Math::Full);
      Sequential net = make_model(name, {1, 40, 40});
      net.build({1, 40, 40}, 8, device, 0);
      auto opt = make_optimizer("sgd", net.parameters(), 0.05, ctx);
      TrainerOptions o;
      o.batch_size = 8;
      o.resize = 40;
      Trainer trainer(net, *opt, ctx, train, test_set, o);
      m[dev] = trainer.train_epoch(1);
    }
    EXPECT_NEAR(m[1].train_loss, m[0].train_loss, rel * std::abs(m[0].train_loss));
    EXPECT_NEAR(m[1].test_loss, m[0].test_loss, rel * std::abs(m[0].test_loss) + 1e-4);
  }
}

// Also the only whole-model check of evaluation mode (running statistics) on the device.
TEST_F(GpuResNetDenseNet, ResizedTrainingEpochMatchesCpu) {
  ExpectResizedEpochNearCpu(Float32Math::Full, 1e-3);
}

// The same on TF32 tensor cores (--tf32, what gpu-check.sh trains the models with), through
// every convolution of both models, DenseBlock's channel slices included: TF32's ~1e-3 per
// layer stays far inside 5e-2 of the losses, while a convolution gone wrong moves them by O(1).
TEST_F(GpuResNetDenseNet, ResizedTrainingEpochWithTf32StaysNearCpu) {
  ExpectResizedEpochNearCpu(Float32Math::TF32, 5e-2);
}

// --- memory --------------------------------------------------------------------------------

// d2l's DenseNet batch (256 images resized to 96x96): one training step, then the peak of the
// tensor memory it needed (printed for the record; the shared dense-block buffers keep it to
// the activations of one copy of each block's channels).
// Peak device memory of one training step at d2l's batch (256 at 96x96), against a bound that
// can fail: what the same model allocates when built on the CPU (every activation, gradient and
// parameter; the CPU adds its im2col scratch, so this errs high), plus the step's input and
// labels, cuBLAS's workspace and the cuDNN workspace twice (the old one lives until its
// replacement exists). More than that means the CUDA path allocates beyond the static plan,
// e.g. DenseNet copying on concatenation.
TEST_F(GpuResNetDenseNet, DenseNetPeakMemoryAtD2lBatch) {
  constexpr int64_t kBatch = 256;
  constexpr double kMiB = 1024.0 * 1024.0;
  for (const char* name : {"densenet", "resnet18"}) {
    SCOPED_TRACE(name);
    double cpu_built_mib = 0.0;
    {
      const TensorMemory before = tensor_memory(Device::CPU);
      Sequential net = make_model(name, {1, 96, 96});
      net.build({1, 96, 96}, kBatch, Device::CPU, 0);
      cpu_built_mib =
          static_cast<double>(tensor_memory(Device::CPU).current_bytes - before.current_bytes) /
          kMiB;
    }
    const TensorMemory before = tensor_memory(Device::CUDA);
    reset_peak_tensor_memory(Device::CUDA);
    double allowed_mib = cpu_built_mib;
    {
      Context ctx(Device::CUDA);
      Sequential net = make_model(name, {1, 96, 96});
      net.build({1, 96, 96}, kBatch, Device::CUDA, 0);
      SoftmaxCrossEntropy loss;
      loss.build(kBatch, Device::CUDA);
      Tensor x = test::HostUniform({kBatch, 1, 96, 96}, 1, 0.0f, 1.0f).to(Device::CUDA);
      Tensor labels = Tensor::zeros({kBatch}, Device::CUDA), sums(Shape{2}, Device::CUDA);
      loss.forward(net.forward(x, ctx), labels, &net.output_grad(), sums.data(), ctx);
      net.backward(ctx);
      const std::vector<float> s = sums.to_vector(ctx.stream());
      EXPECT_TRUE(std::isfinite(s[0]));
      // Both workspaces, and the cuDNN one once more (the largest it could have replaced).
      allowed_mib += static_cast<double>(x.bytes() + labels.bytes() + sums.bytes() +
                                         2 * ctx.workspace_bytes()) /
                         kMiB +
                     4.0;  // loss scratch, batch-norm partials and counters
    }
    const double mib =
        static_cast<double>(tensor_memory(Device::CUDA).peak_bytes - before.current_bytes) / kMiB;
    std::printf(
        "[ memory   ] %s, batch 256 at 96x96: peak %.1f MiB of tensors (bound %.1f MiB; "
        "the CPU build allocates %.1f MiB)\n",
        name, mib, allowed_mib, cpu_built_mib);
    RecordProperty(std::string(name) + "_peak_mib", std::to_string(mib));
    EXPECT_GT(mib, 0.5 * cpu_built_mib);  // the CUDA build did allocate the model
    EXPECT_LE(mib, allowed_mib);
  }
}

}  // namespace
}  // namespace cutrain
