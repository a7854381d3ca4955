#include "cutrain/train/metrics.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cutrain/error.h"
#include "io/parse_double.h"

namespace cutrain {
namespace {

constexpr const char* kCsvHeader =
    "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,seconds,lr";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The epoch as the writer wrote it: a whole number (a double cast to int64 outside its range
// would be undefined behaviour).
int64_t epoch_number(double v, const std::string& where) {
  if (!(v >= 0 && v <= 1e9 && v == std::floor(v)))
    throw DataError(where + "epoch must be a whole number in [0, 1e9], got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

// A CSV field: the whole of it is a number ("nan" and "inf" included, which %.9g writes).
double csv_number(const std::string& f, const std::string& where) {
  if (const std::optional<double> v = detail::parse_whole_double(f)) return *v;
  throw DataError(where + "'" + f + "' is not a number");
}

// A JSON field: a number, or null where the writer had a NaN (nlohmann::json writes NaN and
// infinities as null). get<double>() alone would also take true and false as 1 and 0.
double json_number(const nlohmann::json& j, const char* key, bool required,
                   const std::string& where) {
  if (!j.contains(key)) {
    if (required) return j.at(key).get<double>();  // throws out_of_range naming the key
    return 0.0;
  }
  const nlohmann::json& v = j.at(key);
  if (v.is_null()) return std::nan("");
  if (!v.is_number())
    throw DataError(where + "not a metrics record: " + key + " is " + v.dump() +
                    ", expected a number");
  return v.get<double>();
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
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF line ends
    if (line.empty() || (csv && line.rfind("epoch,", 0) == 0)) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    EpochMetrics m;
    if (csv) {
      std::istringstream fields(line);
      std::string f;
      std::vector<double> v;
      while (std::getline(fields, f, ',')) v.push_back(csv_number(f, where));
      if (v.size() != 8) throw DataError(where + "expected 8 comma-separated fields");
      m.epoch = epoch_number(v[0], where);
      m.train_loss = v[1], m.train_acc = v[2], m.test_loss = v[3], m.test_acc = v[4];
      m.examples_per_sec = v[5], m.seconds = v[6], m.lr = v[7];
    } else {
      try {
        const nlohmann::json j = nlohmann::json::parse(line);
        if (!j.is_object()) throw DataError(where + "not a metrics record: not a JSON object");
        m.epoch = epoch_number(json_number(j, "epoch", true, where), where);
        m.train_loss = json_number(j, "train_loss", true, where);
        m.train_acc = json_number(j, "train_acc", true, where);
        m.test_loss = json_number(j, "test_loss", false, where);
        m.test_acc = json_number(j, "test_acc", true, where);
        m.examples_per_sec = json_number(j, "examples_per_sec", false, where);
        m.seconds = json_number(j, "seconds", false, where);
        m.lr = json_number(j, "lr", false, where);
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
