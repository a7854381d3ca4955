// A one-line progress bar for a terminal: "[#####.....] 120/235 batches  3.1 s". Redrawn at
// most ten times a second; nothing is drawn when stdout is not a terminal (CI, pipes, files).
#pragma once

#include <chrono>
#include <cstdint>

namespace cutrain::app {

class ProgressBar {
 public:
  explicit ProgressBar(bool wanted);
  void start();
  void update(int64_t done, int64_t total);
  /// Erases the bar so the next line starts clean.
  void clear();
  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace cutrain::app
