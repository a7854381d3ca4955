// Where epoch metrics go: a human line for the console and JSON lines for tools.
#pragma once

#include <fstream>
#include <string>

#include "cutrain/train/trainer.h"

namespace cutrain {

/// One console line: epoch, train loss/accuracy, test accuracy, examples/sec, seconds, device.
std::string format_epoch_line(const EpochMetrics& m, int64_t epochs, const std::string& device);

/// Appends one JSON object per epoch with keys epoch, train_loss, train_acc, test_loss,
/// test_acc, examples_per_sec, seconds, lr. The file is truncated when opened.
class JsonlMetricsWriter {
 public:
  explicit JsonlMetricsWriter(const std::string& path);  ///< throws DataError naming the path
  void write(const EpochMetrics& m);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace cutrain
