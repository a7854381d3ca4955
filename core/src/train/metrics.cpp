#include "cutrain/train/metrics.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cutrain/error.h"

namespace cutrain {
namespace {

constexpr const char* kCsvHeader =
    "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,seconds,lr";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string format_epoch_line(const EpochMetrics& m, int64_t epochs, const std::string& device) {
  char line[256];
  std::snprintf(line, sizeof line,
                "epoch %3lld/%lld  train loss %.4f  train acc %.4f  test acc %.4f  "
                "%9.0f examples/sec  %7.2f s  %s",
                static_cast<long long>(m.epoch), static_cast<long long>(epochs), m.train_loss,
                m.train_acc, m.test_acc, m.examples_per_sec, m.seconds, device.c_str());
  return line;
}

MetricsWriter::MetricsWriter(const std::string& path, bool append)
    : path_(path), csv_(ends_with(path, ".csv")) {
  bool empty = true;
  if (append) {
    std::ifstream existing(path, std::ios::ate);
    empty = !existing || existing.tellg() == 0;
  }
  out_.open(path, append ? std::ios::app : std::ios::trunc);
  if (!out_) throw DataError(path + ": cannot open the metrics file for writing (--metrics)");
  if (csv_ && empty) out_ << kCsvHeader << '\n';
}

void MetricsWriter::write(const EpochMetrics& m) {
  if (csv_) {
    char line[320];
    std::snprintf(line, sizeof line, "%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g",
                  static_cast<long long>(m.epoch), m.train_loss, m.train_acc, m.test_loss,
                  m.test_acc, m.examples_per_sec, m.seconds, m.lr);
    out_ << line << '\n';
  } else {
    const nlohmann::json j = {{"epoch", m.epoch},
                              {"train_loss", m.train_loss},
                              {"train_acc", m.train_acc},
                              {"test_loss", m.test_loss},
                              {"test_acc", m.test_acc},
                              {"examples_per_sec", m.examples_per_sec},
                              {"seconds", m.seconds},
                              {"lr", m.lr}};
    out_ << j.dump() << '\n';
  }
  out_.flush();
  if (!out_) throw DataError(path_ + ": write failed (disk full?)");
}

std::vector<EpochMetrics> read_metrics(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open the metrics file");
  const bool csv = ends_with(path, ".csv");
  std::vector<EpochMetrics> out;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || (csv && line.rfind("epoch,", 0) == 0)) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    EpochMetrics m;
    if (csv) {
      std::istringstream fields(line);
      std::string f;
      std::vector<double> v;
      while (std::getline(fields, f, ',')) {
        try {
          v.push_back(std::stod(f));
        } catch (const std::exception&) {
          throw DataError(where + "'" + f + "' is not a number");
        }
      }
      if (v.size() != 8) throw DataError(where + "expected 8 comma-separated fields");
      m.epoch = static_cast<int64_t>(v[0]);
      m.train_loss = v[1], m.train_acc = v[2], m.test_loss = v[3], m.test_acc = v[4];
      m.examples_per_sec = v[5], m.seconds = v[6], m.lr = v[7];
    } else {
      try {
        const nlohmann::json j = nlohmann::json::parse(line);
        m.epoch = j.at("epoch").get<int64_t>();
        m.train_loss = j.at("train_loss").get<double>();
        m.train_acc = j.at("train_acc").get<double>();
        m.test_loss = j.value("test_loss", 0.0);
        m.test_acc = j.at("test_acc").get<double>();
        m.examples_per_sec = j.value("examples_per_sec", 0.0);
        m.seconds = j.value("seconds", 0.0);
        m.lr = j.value("lr", 0.0);
      } catch (const nlohmann::json::exception& e) {
        throw DataError(where + "not a metrics record: " + e.what());
      }
    }
    out.push_back(m);
  }
  if (out.empty()) throw DataError(path + ": no metrics records");
  return out;
}

}  // namespace cutrain
