// The NASA airfoil self-noise data set as the book's linear-regression experiments use it:
// tab-separated rows of 5 features and the target (scaled sound pressure), every column
// standardised to mean 0 and standard deviation 1 over the whole file (as d2l does), then the
// first 1500 rows kept.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cutrain::lab {

/// @brief Features and targets of a regression problem, on the host.
struct RegressionData {
  int64_t count = 0;     ///< examples
  int64_t features = 0;  ///< columns of x
  std::vector<float> x;  ///< [count, features], row-major
  std::vector<float> y;  ///< [count]
};

/// @brief Where to get the file; messages about a missing file include it.
inline constexpr const char* kAirfoilSource =
    "the UCI Machine Learning Repository's \"Airfoil Self-Noise\" data set "
    "(https://archive.ics.uci.edu/dataset/291/airfoil+self+noise, file airfoil_self_noise.dat), "
    "or d2l's copy of it: http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat";

/// @brief Reads `path`: every non-empty line holds 6 numbers separated by tabs (CRLF line ends
/// accepted). Standardises every column, then keeps the first `rows`.
/// @throws DataError naming the file (missing: with kAirfoilSource), the file:line and field
/// of a malformed row, fewer than `rows` rows, or a constant column.
RegressionData load_airfoil(const std::string& path, int64_t rows = 1500);

}  // namespace cutrain::lab
