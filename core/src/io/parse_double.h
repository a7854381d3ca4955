// Numbers in text files: the metrics CSV and checkpoint metadata the library writes, and data
// files such as optim-lab's airfoil table.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace cutrain::detail {

/// The whole of `text` as a double, in strtod's syntax ("nan" and "inf" included, leading blanks
/// skipped, as std::stod does). A value that underflows to a subnormal or zero is a value:
/// std::stod throws out_of_range for it, so a run whose lr decayed below 2.2e-308 wrote a metrics
/// file it could not read back. A decimal that overflows is not a value.
inline std::optional<double> parse_whole_double(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  if (errno == ERANGE && std::isinf(v)) return std::nullopt;
  return v;
}

}  // namespace cutrain::detail
