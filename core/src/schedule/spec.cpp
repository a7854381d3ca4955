#include "schedule/spec.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdlib>

#include "cutrain/error.h"

namespace cutrain::detail {
namespace {
std::vector<std::string> split(const std::string& s, const std::string& separators) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (separators.find(c) != std::string::npos) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  return parts;
}

// Plain decimal numbers only: strtod alone would also take leading blanks and hex.
std::optional<double> parse_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  for (char c : text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}
}  // namespace

SchedulerSpec::SchedulerSpec(const std::string& spec) : spec_(spec) {
  const size_t colon = spec.find(':');
  name_ = spec.substr(0, colon);
  if (name_.empty()) fail("missing scheduler name");
  if (colon == std::string::npos) return;
  const std::string rest = spec.substr(colon + 1);
  if (rest.empty()) return;
  for (const std::string& item : split(rest, ",")) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      fail("expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, eq);
    if (values_.count(key)) fail("key '" + key + "' given twice");
    values_[key] = item.substr(eq + 1);
  }
}

void SchedulerSpec::fail(const std::string& what) const {
  throw ConfigError("--scheduler '" + spec_ + "': " + what);
}

double SchedulerSpec::number(const std::string& key, std::optional<double> fallback) {
  asked_.push_back(key);
  const auto it = values_.find(key);
  if (it == values_.end()) {
    if (!fallback) fail(name_ + " needs " + key + "=VALUE");
    return *fallback;
  }
  const std::optional<double> v = parse_number(it->second);
  if (!v) fail(key + " must be a number, got '" + it->second + "'");
  return *v;
}

std::vector<double> SchedulerSpec::numbers(const std::string& key) {
  asked_.push_back(key);
  const auto it = values_.find(key);
  if (it == values_.end()) fail(name_ + " needs " + key + "=A;B;...");
  std::vector<double> out;
  for (const std::string& part : split(it->second, ";/")) {
    const std::optional<double> v = parse_number(part);
    if (!v) fail(key + " must be numbers separated by ';' or '/', got '" + it->second + "'");
    out.push_back(*v);
  }
  return out;
}

void SchedulerSpec::reject_unknown_keys() const {
  for (const auto& [key, value] : values_) {
    if (std::find(asked_.begin(), asked_.end(), key) != asked_.end()) continue;
    std::string known;
    for (const std::string& k : asked_) known += (known.empty() ? "" : ", ") + k;
    fail("unknown key '" + key + "' for " + name_ + " (known: " + known + ")");
  }
}

}  // namespace cutrain::detail
