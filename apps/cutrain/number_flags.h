// Checks for the numeric flags, with messages a user can act on: CLI11's PositiveNumber and
// NonNegativeNumber answer "--lr -1" with "Value -1 not in range 0.000000 to 17976931348623157...
// (300 digits)" and "--lr abc" the same way. These say what was expected and what was given,
// and refuse nan and inf.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace cutrain::app {

/// A finite number > 0 (`strict`) or >= 0.
inline CLI::Validator finite_number_at_least_zero(bool strict) {
  const std::string expected = strict ? "a number > 0" : "a number >= 0";
  return CLI::Validator(
      [strict, expected](std::string& text) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v))
          return "expected " + expected + ", got '" + text + "'";
        if (strict ? !(v > 0.0) : !(v >= 0.0)) return "expected " + expected + ", got " + text;
        return {};
      },
      strict ? "NUMBER > 0" : "NUMBER >= 0");
}

inline const CLI::Validator kPositiveNumber = finite_number_at_least_zero(true);
inline const CLI::Validator kNonNegativeNumber = finite_number_at_least_zero(false);

}  // namespace cutrain::app
