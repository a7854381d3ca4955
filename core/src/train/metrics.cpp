#include "cutrain/train/metrics.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cutrain/error.h"

namespace cutrain {

std::string format_epoch_line(const EpochMetrics& m, int64_t epochs, const std::string& device) {
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %3lld/%lld  train loss %.4f  train acc %.4f  test acc %.4f  "
                "%9.0f examples/sec  %7.2f s  %s",
                static_cast<long long>(m.epoch), static_cast<long long>(epochs), m.train_loss,
                m.train_acc, m.test_acc, m.examples_per_sec, m.seconds, device.c_str());
  return line;
}

JsonlMetricsWriter::JsonlMetricsWriter(const std::string& path)
    : path_(path), out_(path, std::ios::out | std::ios::trunc) {
  if (!out_) throw DataError(path + ": cannot open the metrics file for writing (--metrics)");
}

void JsonlMetricsWriter::write(const EpochMetrics& m) {
  const nlohmann::json j = {{"epoch", m.epoch},
                            {"train_loss", m.train_loss},
                            {"train_acc", m.train_acc},
                            {"test_loss", m.test_loss},
                            {"test_acc", m.test_acc},
                            {"examples_per_sec", m.examples_per_sec},
                            {"seconds", m.seconds},
                            {"lr", m.lr}};
  out_ << j.dump() << '\n';
  out_.flush();
  if (!out_) throw DataError(path_ + ": write failed (disk full?)");
}

}  // namespace cutrain
