// Finite-difference gradient checking on the CPU (Caffe's GradientChecker idea).
//
// For a layer f and a fixed random r, the scalar L = sum_i r_i * f(x)_i has dL/dy = r, so one
// backward pass with dy = r gives the analytic dL/dx and dL/dparam; each is compared with the
// central difference (L(v + eps) - L(v - eps)) / 2 eps, accumulated in double. A mismatch names
// the tensor and the index.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/models/layer.h"
#include "cutrain/rng.h"
#include "cutrain/tensor.h"

namespace cutrain::test {

struct GradCheckOptions {
  double eps = 1e-2;
  double atol = 2e-3;
  double rtol = 1e-2;
  int64_t max_checks_per_tensor = 0;  ///< 0: every element; else this many random indices
  uint64_t seed = 1;
};

struct GradMismatch {
  std::string tensor;
  int64_t index;
  double analytic, numeric;
};

/// One tensor to perturb: its name, its values, and the analytic gradient computed for it.
struct GradTarget {
  std::string name;
  Tensor* value;
  std::vector<float> analytic;
};

/// A CPU tensor of uniform values in [lo, hi) from `seed`.
inline Tensor random_input(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor x(shape, Device::CPU);
  Rng rng(seed);
  for (int64_t i = 0; i < x.numel(); ++i) x.data()[i] = rng.uniform(lo, hi);
  return x;
}

/// Compares analytic gradients with central differences of `loss` (which must recompute the
/// scalar from the current tensor values) for every target.
inline std::vector<GradMismatch> compare_with_finite_differences(
    std::vector<GradTarget>& targets, const std::function<double()>& loss,
    const GradCheckOptions& opt) {
  std::vector<GradMismatch> bad;
  Rng pick(opt.seed + 7);
  for (GradTarget& t : targets) {
    std::vector<int64_t> indices;
    const int64_t n = t.value->numel();
    if (opt.max_checks_per_tensor <= 0 || opt.max_checks_per_tensor >= n) {
      for (int64_t i = 0; i < n; ++i) indices.push_back(i);
    } else {
      for (int64_t k = 0; k < opt.max_checks_per_tensor; ++k)
        indices.push_back(static_cast<int64_t>(pick.below(static_cast<uint64_t>(n))));
    }
    for (int64_t i : indices) {
      float& v = t.value->data()[i];
      const float saved = v;
      v = saved + static_cast<float>(opt.eps);
      const double plus = loss();
      v = saved - static_cast<float>(opt.eps);
      const double minus = loss();
      v = saved;
      const double numeric = (plus - minus) / (2.0 * opt.eps);
      const double analytic = t.analytic[static_cast<size_t>(i)];
      if (!(std::abs(numeric - analytic) <= opt.atol + opt.rtol * std::abs(numeric)))
        bad.push_back({t.name, i, analytic, numeric});
    }
  }
  return bad;
}

/// Checks dx and every parameter gradient of a built CPU layer at input x.
inline std::vector<GradMismatch> check_layer_gradients(Layer& layer, Tensor& x, const Shape& y_shape,
                                                       const GradCheckOptions& opt = {}) {
  Context ctx(Device::CPU);
  Rng rng(opt.seed);
  Tensor y(y_shape, Device::CPU), dy(y_shape, Device::CPU), dx(x.shape(), Device::CPU);
  for (int64_t i = 0; i < dy.numel(); ++i) dy.data()[i] = rng.uniform(-1.0f, 1.0f);
  layer.forward(x, y, ctx);
  layer.backward(x, y, dy, &dx, ctx);

  std::vector<GradTarget> targets;
  targets.push_back({layer.kind() + ".input", &x, dx.to_vector()});
  for (const Parameter& p : layer.parameters())
    targets.push_back({layer.kind() + "." + p.name, p.value, p.grad->to_vector()});

  auto loss = [&] {
    layer.forward(x, y, ctx);
    double l = 0.0;
    for (int64_t i = 0; i < y.numel(); ++i)
      l += static_cast<double>(dy.data()[i]) * static_cast<double>(y.data()[i]);
    return l;
  };
  return compare_with_finite_differences(targets, loss, opt);
}

/// "conv2d.weight[17]: analytic 0.1 vs numeric 0.2; ..." for the first few mismatches.
inline std::string describe(const std::vector<GradMismatch>& bad, size_t max_items = 5) {
  std::ostringstream out;
  out << bad.size() << " gradient mismatch(es)";
  for (size_t i = 0; i < bad.size() && i < max_items; ++i)
    out << "; " << bad[i].tensor << "[" << bad[i].index << "]: analytic " << bad[i].analytic
        << " vs numeric " << bad[i].numeric;
  return out.str();
}

}  // namespace cutrain::test
