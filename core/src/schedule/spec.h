// Scheduler spec parsing: "name[:key=value,key=value]". Keys are consumed as they are read; any
// left over is an error naming the scheduler and the keys it knows.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cutrain::detail {

class SchedulerSpec {
 public:
  explicit SchedulerSpec(const std::string& spec);  ///< throws ConfigError on bad syntax
  const std::string& name() const { return name_; }
  /// A number; `fallback` when absent (nullopt: the key is required).
  double number(const std::string& key, std::optional<double> fallback);
  /// A list of numbers separated by ';' or '/'.
  std::vector<double> numbers(const std::string& key);
  /// Throws ConfigError if a key was given that no number()/numbers() call asked for.
  void reject_unknown_keys() const;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string spec_, name_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> asked_;
};

}  // namespace cutrain::detail
