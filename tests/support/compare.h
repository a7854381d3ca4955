// Tolerance comparisons of GPU results with their CPU reference, for the GPU tests: Near reports
// how many elements are off and the worst one (relative to its tolerance); NaN never passes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iomanip>
#include <limits>
#include <string>
#include <vector>

namespace cutrain::test {

/// The largest finite |v[i]| (0 when there is none): the scale of a tolerance relative to a
/// whole tensor, e.g. atol = 1e-6 * MaxAbs(ref).
inline double MaxAbs(const std::vector<float>& v) {
  double m = 0.0;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, std::abs(static_cast<double>(x)));
  return m;
}

/// The tolerance scale of each gradient tensor: its own largest |value|, but at least
/// `floor` times the largest over all tensors. A gradient that is zero in exact arithmetic (the
/// bias of a convolution followed by BatchNorm; a BatchNorm scale whose every consumer
/// normalises again) holds rounding noise only, which no tolerance relative to itself bounds.
inline std::vector<double> GradScales(const std::vector<std::vector<float>>& grads, double floor) {
  double global = 0.0;
  for (const auto& g : grads) global = std::max(global, MaxAbs(g));
  std::vector<double> scales;
  for (const auto& g : grads) scales.push_back(std::max(MaxAbs(g), floor * global));
  return scales;
}

/// Elements of `v` in [begin, end) that are not NaN (a poisoned region the GPU must not touch).
inline int64_t WrittenIn(const std::vector<float>& v, size_t begin, size_t end) {
  int64_t count = 0;
  for (size_t i = begin; i < end && i < v.size(); ++i) count += std::isnan(v[i]) ? 0 : 1;
  return count;
}

/// Elements [from, end) were poisoned with NaN before the GPU call and must not have been
/// written.
inline ::testing::AssertionResult StillPoisoned(const std::string& what,
                                                const std::vector<float>& gpu, size_t from) {
  for (size_t i = from; i < gpu.size(); ++i)
    if (!std::isnan(gpu[i]))
      return ::testing::AssertionFailure() << what << ": element " << i << " past the " << from
                                           << " outputs was written (" << gpu[i] << ")";
  return ::testing::AssertionSuccess();
}

/// The gap between the two largest of `classes` values at `row` (infinity for one class).
inline double TopTwoGap(const float* row, int64_t classes) {
  double first = -std::numeric_limits<double>::infinity(), second = first;
  for (int64_t k = 0; k < classes; ++k) {
    const double v = row[k];
    if (v > first)
      second = first, first = v;
    else if (v > second)
      second = v;
  }
  return first - second;
}

/// Rows of `logits` (row-major, `classes` per row) whose two largest values are at most `margin`
/// apart: where a prediction may legitimately flip between two devices whose logits differ by
/// up to margin / 2 each.
inline int64_t NearTies(const std::vector<float>& logits, int64_t classes, double margin) {
  int64_t ties = 0;
  for (size_t row = 0; row + static_cast<size_t>(classes) <= logits.size();
       row += static_cast<size_t>(classes))
    ties += TopTwoGap(logits.data() + row, classes) <= margin ? 1 : 0;
  return ties;
}

/// The GPU predicts the CPU's class (the first largest logit) in every row, except rows whose
/// CPU logits are a near tie (NearTies' margin).
inline ::testing::AssertionResult SamePredictions(const std::string& what,
                                                  const std::vector<float>& gpu,
                                                  const std::vector<float>& cpu, int64_t classes,
                                                  double margin) {
  if (gpu.size() != cpu.size() || classes <= 0 || cpu.size() % static_cast<size_t>(classes) != 0)
    return ::testing::AssertionFailure() << what << ": " << gpu.size() << " GPU and " << cpu.size()
                                         << " CPU logits for " << classes << " classes";
  const auto argmax = [classes](const std::vector<float>& v, size_t row) {
    size_t best = row;
    for (size_t k = row; k < row + static_cast<size_t>(classes); ++k)
      if (v[k] > v[best]) best = k;
    return best - row;
  };
  for (size_t row = 0; row < cpu.size(); row += static_cast<size_t>(classes)) {
    if (argmax(gpu, row) == argmax(cpu, row) || TopTwoGap(cpu.data() + row, classes) <= margin)
      continue;
    return ::testing::AssertionFailure()
           << what << ": example " << row / static_cast<size_t>(classes) << " is class "
           << argmax(gpu, row) << " on the GPU but " << argmax(cpu, row)
           << " on the CPU, whose top two logits are more than " << margin << " apart";
  }
  return ::testing::AssertionSuccess();
}

/// What Near requires of the GPU values past the last CPU value.
enum class Tail {
  kNone,      ///< there are none: gpu.size() == cpu.size()
  kIgnored,   ///< any number of them, not looked at
  kPoisoned,  ///< any number of them, every one still NaN (a guard the GPU must not write)
};

/// |gpu[i] - cpu[i]| <= atol + rtol * |cpu[i]| for every i < cpu.size() (NaN fails); `tail`
/// says what else gpu may hold.
inline ::testing::AssertionResult Near(const std::string& what, const std::vector<float>& gpu,
                                       const std::vector<float>& cpu, double rtol, double atol,
                                       Tail tail = Tail::kNone) {
  if (tail == Tail::kNone ? gpu.size() != cpu.size() : gpu.size() < cpu.size())
    return ::testing::AssertionFailure()
           << what << ": " << gpu.size() << " GPU values for " << cpu.size() << " CPU values";
  if (tail == Tail::kPoisoned) {
    ::testing::AssertionResult guard = StillPoisoned(what, gpu, cpu.size());
    if (!guard) return guard;
  }
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

}  // namespace cutrain::test
