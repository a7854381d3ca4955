#include "cutrain/lab/airfoil.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "cutrain/error.h"
#include "io/parse_double.h"

namespace cutrain::lab {
namespace {

constexpr int kColumns = 6;  // 5 features + the target

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \r") - b + 1);
}

bool parse_number(const std::string& field, double& out) {
  const std::optional<double> v = detail::parse_whole_double(field);
  if (!v || !std::isfinite(*v)) return false;
  out = *v;
  return true;
}

}  // namespace

RegressionData load_airfoil(const std::string& path, int64_t rows) {
  if (rows < 1) throw ConfigError("--rows: expected at least one row");
  std::ifstream in(path);
  if (!in)
    throw DataError(path + ": cannot open the airfoil data (" + std::strerror(errno) +
                    "). Get it from " + kAirfoilSource + "; then pass its path with --data");
  std::vector<double> table;  // row-major, kColumns per row
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    size_t begin = 0;
    int column = 0;
    while (true) {
      const size_t tab = line.find('\t', begin);
      const std::string field =
          trim(line.substr(begin, tab == std::string::npos ? std::string::npos : tab - begin));
      if (column == kColumns)
        throw DataError(where + "expected " + std::to_string(kColumns) +
                        " tab-separated numbers, got more");
      double v = 0.0;
      if (!parse_number(field, v))
        throw DataError(where + "field " + std::to_string(column + 1) + " '" + field +
                        "' is not a finite number");
      table.push_back(v);
      ++column;
      if (tab == std::string::npos) break;
      begin = tab + 1;
    }
    if (column != kColumns)
      throw DataError(where + "expected " + std::to_string(kColumns) +
                      " tab-separated numbers, got " + std::to_string(column));
  }
  if (in.bad()) throw DataError(path + ": read error");
  const auto total = static_cast<int64_t>(table.size() / kColumns);
  if (total < rows)
    throw DataError(path + ": " + std::to_string(total) + " rows, the experiment needs at least " +
                    std::to_string(rows) + " (is this the complete airfoil_self_noise.dat?)");

  // Population mean and standard deviation of each column over every row (numpy's defaults,
  // which d2l uses), in double.
  double mean[kColumns] = {}, sd[kColumns] = {};
  for (int64_t r = 0; r < total; ++r)
    for (int c = 0; c < kColumns; ++c) mean[c] += table[r * kColumns + c];
  for (double& m : mean) m /= static_cast<double>(total);
  for (int64_t r = 0; r < total; ++r)
    for (int c = 0; c < kColumns; ++c) {
      const double d = table[r * kColumns + c] - mean[c];
      sd[c] += d * d;
    }
  for (int c = 0; c < kColumns; ++c) {
    sd[c] = std::sqrt(sd[c] / static_cast<double>(total));
    if (!(sd[c] > 0.0))
      throw DataError(path + ": column " + std::to_string(c + 1) +
                      " is constant and cannot be standardised");
  }

  RegressionData data;
  data.count = rows;
  data.features = kColumns - 1;
  data.x.reserve(static_cast<size_t>(rows * data.features));
  data.y.reserve(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < kColumns; ++c) {
      const auto v = static_cast<float>((table[r * kColumns + c] - mean[c]) / sd[c]);
      (c + 1 < kColumns ? data.x : data.y).push_back(v);
    }
  return data;
}

}  // namespace cutrain::lab
