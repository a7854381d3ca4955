// Tolerance comparisons of GPU results with their CPU reference, for the GPU tests: Near reports
// how many elements are off and the worst one (relative to its tolerance); NaN never passes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
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
