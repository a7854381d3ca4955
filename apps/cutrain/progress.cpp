#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace cutrain::app {

ProgressBar::ProgressBar(bool wanted) : enabled_(wanted && isatty(STDOUT_FILENO) == 1) {}

void ProgressBar::start() { start_ = last_ = std::chrono::steady_clock::now(); }

void ProgressBar::update(int64_t done, int64_t total) {
  if (!enabled_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done / total);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  std::printf("\r  [%s%s] %lld/%lld batches  %.1f s", std::string(filled, '#').c_str(),
              std::string(kWidth - filled, '.').c_str(), static_cast<long long>(done),
              static_cast<long long>(total), seconds);
  std::fflush(stdout);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::printf("\r\033[K");
  std::fflush(stdout);
  drawn_ = false;
}

}  // namespace cutrain::app
