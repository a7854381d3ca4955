// Helpers of the GPU-vs-CPU tests: a fixture that skips without a usable device, seeded inputs,
// uploads, NaN-poisoned outputs, and an element-wise comparison |gpu - cpu| <= atol + rtol |cpu|
// that names the worst element.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <string>
#include <vector>

#include "cutrain/device.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"

namespace cutrain::test {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = cuda_unusable_reason();
    if (!why.empty()) GTEST_SKIP() << "no usable CUDA device: " << why;
  }
};

inline std::vector<float> uniform_values(uint64_t seed, int64_t n, float lo = -1.0f,
                                         float hi = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = rng.uniform(lo, hi);
  return v;
}

/// A host tensor of `shape` with seeded uniform values.
inline Tensor host_uniform(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  return Tensor::from_vector(uniform_values(seed, numel_of(shape), lo, hi), shape, Device::CPU);
}

/// A device tensor of `shape` filled with NaN (synchronously).
inline Tensor device_poisoned(const Shape& shape) {
  Tensor t(shape, Device::CUDA);
  t.fill(kNaN);
  return t;
}

inline double max_abs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, std::abs(static_cast<double>(x)));
  return m;
}

/// The tolerance scale of each gradient tensor: its own largest |value|, but at least
/// `floor` times the largest over all tensors. A gradient that is zero in exact arithmetic (the
/// bias of a convolution followed by BatchNorm; a BatchNorm scale whose every consumer
/// normalises again) holds rounding noise only, which no tolerance relative to itself bounds.
inline std::vector<double> grad_scales(const std::vector<std::vector<float>>& grads, double floor) {
  double global = 0.0;
  for (const auto& g : grads) global = std::max(global, max_abs(g));
  std::vector<double> scales;
  for (const auto& g : grads) scales.push_back(std::max(max_abs(g), floor * global));
  return scales;
}

/// |gpu[i] - cpu[i]| <= atol + rtol * |cpu[i]| for every element (NaN fails).
inline ::testing::AssertionResult near(const std::string& what, const std::vector<float>& gpu,
                                       const std::vector<float>& cpu, double rtol, double atol) {
  if (gpu.size() != cpu.size())
    return ::testing::AssertionFailure()
           << what << ": " << gpu.size() << " GPU values vs " << cpu.size() << " CPU values";
  size_t bad = 0, worst = 0;
  double worst_ratio = -1.0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double c = cpu[i], diff = std::abs(static_cast<double>(gpu[i]) - c);
    const double tol = atol + rtol * std::abs(c);
    if (diff <= tol) continue;
    ++bad;
    const double ratio =
        std::isnan(diff) ? std::numeric_limits<double>::infinity() : diff / std::max(tol, 1e-300);
    if (ratio > worst_ratio) worst_ratio = ratio, worst = i;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << std::setprecision(9) << what << ": " << bad << " of "
                                       << cpu.size() << " elements exceed |gpu - cpu| <= " << atol
                                       << " + " << rtol << " * |cpu|; worst at index " << worst
                                       << ": gpu " << gpu[worst] << " vs cpu " << cpu[worst];
}

/// Elements of `v` in [begin, end) that are not NaN (a poisoned region the GPU must not touch).
inline int64_t written_in(const std::vector<float>& v, size_t begin, size_t end) {
  int64_t count = 0;
  for (size_t i = begin; i < end && i < v.size(); ++i) count += std::isnan(v[i]) ? 0 : 1;
  return count;
}

}  // namespace cutrain::test
