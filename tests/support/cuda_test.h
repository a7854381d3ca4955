// Support for the GPU tests: a fixture that skips when no usable CUDA device is present, seeded
// random host inputs, device copies of them, and one device's side of a training comparison.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/device.h"
#include "cutrain/models/registry.h"
#include "cutrain/models/sequential.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/parameter.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"

namespace cutrain::test {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// Base fixture of the GPU tests: each test is skipped (GTEST_SKIP) without a usable device.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = cuda_unusable_reason();
    if (!why.empty()) GTEST_SKIP() << "no usable CUDA device: " << why;
  }
};

/// n values lo + (hi - lo) * rng.uniform(), uniform in [lo, hi).
inline std::vector<float> Uniform(Rng& rng, int64_t n, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

/// A host tensor of `shape` whose values are Uniform(Rng(seed), numel, lo, hi).
inline Tensor HostUniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  return Tensor::from_vector(Uniform(rng, numel_of(shape), lo, hi), shape, Device::CPU);
}

/// A device copy of `v`, queued on ctx's stream.
inline Tensor Upload(const std::vector<float>& v, const Context& ctx) {
  Tensor t(Shape{static_cast<int64_t>(v.size())}, Device::CUDA);
  t.copy_from_host(v.data(), t.numel(), ctx.stream());
  return t;
}

/// n device values, all NaN, so that an element a kernel fails to write is seen.
inline Tensor Poisoned(int64_t n, const Context& ctx) {
  Tensor t(Shape{n}, Device::CUDA);
  t.fill(kNaN, ctx.stream());
  return t;
}

/// A device tensor of `shape`, all NaN, filled synchronously (on the default stream).
inline Tensor Poisoned(const Shape& shape) {
  Tensor t(shape, Device::CUDA);
  t.fill(kNaN);
  return t;
}

/// Adds the same Uniform(-0.5, 0.5) offsets to each pair of parameters (CPU layer's, CUDA
/// layer's; synchronously): a freshly built layer has zero biases and BatchNorm's gamma = 1,
/// beta = 0, with which a forward that dropped or misindexed them would still match.
inline void PerturbParametersAlike(const std::vector<Parameter>& cpu,
                                   const std::vector<Parameter>& gpu, uint64_t seed) {
  ASSERT_EQ(cpu.size(), gpu.size());
  Rng rng(seed);
  for (size_t i = 0; i < cpu.size(); ++i) {
    std::vector<float> v = cpu[i].value->to_vector();
    for (float& x : v) x += rng.uniform(-0.5f, 0.5f);
    cpu[i].value->copy_from_host(v.data(), static_cast<int64_t>(v.size()));
    gpu[i].value->copy_from_host(v.data(), static_cast<int64_t>(v.size()));
  }
}

/// One device's side of a CPU-vs-CUDA training comparison: context, a registered model for
/// [1, 28, 28] samples built from seed 0 (equal on both devices), the softmax cross-entropy, SGD
/// at `lr` and the two loss sums.
struct TrainingSide {
  TrainingSide(Device device, const std::string& model, int64_t max_batch, double lr)
      : ctx(device), net(make_model(model)) {
    net.build(Shape{1, 28, 28}, max_batch, device, /*seed=*/0);
    loss.build(max_batch, device);
    opt = make_optimizer("sgd", net.parameters(), lr, ctx);
    sums = Tensor(Shape{2}, device);
  }
  Context ctx;
  Sequential net;
  SoftmaxCrossEntropy loss;
  std::unique_ptr<Optimizer> opt;
  Tensor sums;
};

}  // namespace cutrain::test
