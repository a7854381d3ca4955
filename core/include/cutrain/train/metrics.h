// Where epoch metrics go: a human line for the console, and JSON lines or CSV for tools.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "cutrain/train/trainer.h"

namespace cutrain {

/// One console line: epoch, train loss/accuracy, test accuracy, examples/sec, seconds, device.
std::string format_epoch_line(const EpochMetrics& m, int64_t epochs, const std::string& device);

/// Writes one record per epoch with the fields epoch, train_loss, train_acc, test_loss,
/// test_acc, examples_per_sec, seconds, lr: JSON lines, or CSV (with a header line) when the
/// path ends in ".csv". `append` keeps earlier records (a resumed run). Each record is flushed.
class MetricsWriter {
 public:
  MetricsWriter(const std::string& path, bool append);  ///< throws DataError naming the path
  void write(const EpochMetrics& m);

 private:
  std::string path_;
  bool csv_;
  std::ofstream out_;
};

/// Reads what MetricsWriter wrote (either format); throws DataError naming the file and line.
std::vector<EpochMetrics> read_metrics(const std::string& path);

}  // namespace cutrain
