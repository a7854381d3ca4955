// Metrics files: JSON lines and CSV as MetricsWriter writes them, read back by read_metrics,
// appended to by resumed runs, and rejected with the file and line when damaged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/train/metrics.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::Contains;
using test::data_error_message;

EpochMetrics record(int64_t epoch) {
  EpochMetrics m;
  m.epoch = epoch;
  m.train_loss = 2.302585092994046 / static_cast<double>(epoch);
  m.train_acc = 1.0 / 3.0 + 0.01 * static_cast<double>(epoch);
  m.test_loss = 0.123456789012345 * static_cast<double>(epoch);
  m.test_acc = 0.875;
  m.examples_per_sec = 12345.678901 + static_cast<double>(epoch);
  m.seconds = 1.0e-3 * static_cast<double>(epoch);
  m.lr = 0.1 * std::pow(0.5, static_cast<double>(epoch));
  m.examples = 640;
  return m;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// JSON numbers round-trip exactly (rel 0); CSV prints 9 significant digits, which keeps a
// value to within half a unit of its 9th digit: 5e-9 relative.
void expect_same_record(const EpochMetrics& got, const EpochMetrics& want, double rel) {
  SCOPED_TRACE("epoch " + std::to_string(want.epoch));
  EXPECT_EQ(got.epoch, want.epoch);
  const struct {
    const char* name;
    double got, want;
  } fields[] = {{"train_loss", got.train_loss, want.train_loss},
                {"train_acc", got.train_acc, want.train_acc},
                {"test_loss", got.test_loss, want.test_loss},
                {"test_acc", got.test_acc, want.test_acc},
                {"examples_per_sec", got.examples_per_sec, want.examples_per_sec},
                {"seconds", got.seconds, want.seconds},
                {"lr", got.lr, want.lr}};
  for (const auto& f : fields) {
    if (rel == 0.0)
      EXPECT_EQ(f.got, f.want) << f.name;
    else
      EXPECT_NEAR(f.got, f.want, rel * std::abs(f.want)) << f.name;
  }
}

// Each record reaches the file when it is written (a run killed later keeps its epochs).
TEST(Metrics, EachRecordIsFlushedWhenWritten) {
  const test::TempDir dir;
  for (const char* name : {"m.jsonl", "m.csv"}) {
    const std::string path = dir.file(name);
    MetricsWriter w(path, /*append=*/false);
    w.write(record(1));
    const size_t header = std::string(name) == "m.csv" ? 1 : 0;
    EXPECT_EQ(lines_of(path).size(), header + 1) << name << ", writer still open";
    w.write(record(2));
    EXPECT_EQ(lines_of(path).size(), header + 2) << name << ", writer still open";
  }
}

TEST(Metrics, JsonLinesHoldOneRecordPerEpoch) {
  const test::TempDir dir;
  const std::string path = dir.file("m.jsonl");
  {
    MetricsWriter w(path, /*append=*/false);
    w.write(record(1));
    w.write(record(2));
  }
  const std::vector<std::string> lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    const EpochMetrics want = record(static_cast<int64_t>(i) + 1);
    EXPECT_EQ(j.at("epoch").get<int64_t>(), want.epoch);
    EXPECT_EQ(j.at("train_loss").get<double>(), want.train_loss);  // JSON keeps every bit
    EXPECT_EQ(j.at("lr").get<double>(), want.lr);
    for (const char* key : {"train_acc", "test_loss", "test_acc", "examples_per_sec", "seconds"})
      EXPECT_TRUE(j.contains(key)) << key;
  }
  const std::vector<EpochMetrics> back = read_metrics(path);
  ASSERT_EQ(back.size(), 2u);
  expect_same_record(back[0], record(1), 0.0);
  expect_same_record(back[1], record(2), 0.0);
}

TEST(Metrics, AppendKeepsEarlierRecordsAndTruncateDoesNot) {
  const test::TempDir dir;
  const std::string path = dir.file("m.jsonl");
  { MetricsWriter(path, false).write(record(1)); }
  { MetricsWriter(path, true).write(record(2)); }
  ASSERT_EQ(lines_of(path).size(), 2u);
  EXPECT_EQ(read_metrics(path).back().epoch, 2);
  { MetricsWriter(path, false).write(record(5)); }
  const std::vector<EpochMetrics> back = read_metrics(path);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].epoch, 5);
}

TEST(Metrics, CsvHasOneHeaderEvenWhenAppended) {
  const test::TempDir dir;
  const std::string path = dir.file("m.csv");
  {
    MetricsWriter w(path, false);
    w.write(record(1));
    w.write(record(2));
  }
  { MetricsWriter(path, /*append=*/true).write(record(3)); }
  const std::vector<std::string> lines = lines_of(path);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,seconds,lr");
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_NE(lines[i].rfind("epoch", 0), 0u) << "header repeated on line " << i + 1;
    EXPECT_EQ(std::count(lines[i].begin(), lines[i].end(), ','), 7) << lines[i];
    EXPECT_EQ(lines[i].rfind(std::to_string(i) + ",", 0), 0u) << lines[i];
  }
  const std::vector<EpochMetrics> back = read_metrics(path);
  ASSERT_EQ(back.size(), 3u);
  for (int64_t e = 1; e <= 3; ++e)
    expect_same_record(back[static_cast<size_t>(e - 1)], record(e), 5e-9);
}

// An lr that a schedule decayed below the smallest normal double (a factor schedule stepped
// per update, say) is written as a subnormal; std::stod refused to read it back, so such a
// run's metrics could not be plotted. Overflowing text stays an error.
TEST(Metrics, SubnormalValuesReadBack) {
  const test::TempDir dir;
  for (const char* name : {"m.csv", "m.jsonl"}) {
    const std::string path = dir.file(name);
    EpochMetrics m = record(1);
    m.lr = 4.9406564584124654e-324;  // the smallest subnormal
    m.train_loss = 1.5e-310;
    { MetricsWriter(path, false).write(m); }
    const std::vector<EpochMetrics> back = read_metrics(path);
    ASSERT_EQ(back.size(), 1u) << name;
    EXPECT_EQ(back[0].lr, m.lr) << name;
    EXPECT_NEAR(back[0].train_loss, m.train_loss, 1e-318) << name;
  }
  const std::string over = dir.file("over.csv");
  write_text(over, "1,1e999,0.8,0.6,0.7,100,1,0.1\n");
  EXPECT_TRUE(Contains(data_error_message([&] { read_metrics(over); }), "'1e999' is not a number"));
}

TEST(Metrics, AppendingToANewCsvWritesTheHeader) {
  const test::TempDir dir;
  const std::string path = dir.file("new.csv");
  { MetricsWriter(path, /*append=*/true).write(record(4)); }
  const std::vector<std::string> lines = lines_of(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("epoch,train_loss", 0), 0u);
  EXPECT_EQ(read_metrics(path).at(0).epoch, 4);
}

TEST(Metrics, UnwritablePathIsNamed) {
  const test::TempDir dir;
  const std::string path = dir.file("no/such/dir/m.jsonl");
  EXPECT_TRUE(Contains(data_error_message([&] { MetricsWriter w(path, false); }), path));
}

TEST(Metrics, ReadErrorsNameTheFileAndLine) {
  const test::TempDir dir;
  const std::string missing = dir.file("missing.jsonl");
  EXPECT_TRUE(Contains(data_error_message([&] { read_metrics(missing); }), missing));

  const std::string bad = dir.file("bad.jsonl");
  {
    MetricsWriter w(bad, false);
    w.write(record(1));
    w.write(record(2));
  }
  std::ofstream(bad, std::ios::app) << "{\"epoch\": 3, \"train_loss\": \n";
  std::string msg = data_error_message([&] { read_metrics(bad); });
  EXPECT_TRUE(Contains(msg, bad + ":3:"));

  const std::string incomplete = dir.file("incomplete.jsonl");
  write_text(incomplete, "\n{\"epoch\": 1, \"train_loss\": 0.5}\n");  // no train_acc
  msg = data_error_message([&] { read_metrics(incomplete); });
  EXPECT_TRUE(Contains(msg, incomplete + ":2:"));

  const std::string seven = dir.file("seven.csv");
  write_text(seven,
             "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,seconds,lr\n"
             "1,0.5,0.8,0.6,0.7,100,1,0.1\n"
             "2,0.4,0.85,0.5,0.75,100,1\n");
  msg = data_error_message([&] { read_metrics(seven); });
  EXPECT_TRUE(Contains(msg, seven + ":3:"));
  EXPECT_TRUE(Contains(msg, "expected 8 comma-separated fields")) << msg;

  const std::string word = dir.file("word.csv");
  write_text(word, "1,0.5,abc,0.6,0.7,100,1,0.1\n");
  msg = data_error_message([&] { read_metrics(word); });
  EXPECT_TRUE(Contains(msg, word + ":1:"));
  EXPECT_TRUE(Contains(msg, "'abc'"));

  const std::string empty = dir.file("empty.jsonl");
  write_text(empty, "");
  msg = data_error_message([&] { read_metrics(empty); });
  EXPECT_TRUE(Contains(msg, empty));
  EXPECT_TRUE(Contains(msg, "no metrics records"));

  const std::string header_only = dir.file("header.csv");
  write_text(header_only,
             "epoch,train_loss,train_acc,test_loss,test_acc,examples_per_sec,"
             "seconds,lr\n");
  EXPECT_TRUE(Contains(data_error_message([&] { read_metrics(header_only); }), header_only));
}

// Found by fuzzing (tests/fuzz/fuzz_metrics_plot.cpp): an epoch like 1e55 was cast to int64
// (undefined behaviour), "1abc" read as 1, and a JSON line that is not an object got past.
TEST(Metrics, FieldsMustBeWholeNumbersAndNothingMore) {
  const test::TempDir dir;
  const struct {
    const char* name;
    const char* text;
    const char* says;
  } cases[] = {
      {"huge.csv", "6.6e55,0.5,0.8,0.6,0.7,100,1,0.1\n", "epoch must be a whole number"},
      {"fraction.csv", "1.5,0.5,0.8,0.6,0.7,100,1,0.1\n", "epoch must be a whole number"},
      {"negative.csv", "-1,0.5,0.8,0.6,0.7,100,1,0.1\n", "epoch must be a whole number"},
      {"trailing.csv", "1,0.5abc,0.8,0.6,0.7,100,1,0.1\n", "'0.5abc' is not a number"},
      {"huge.jsonl", "{\"epoch\":1e300,\"train_loss\":1,\"train_acc\":1,\"test_acc\":1}\n",
       "epoch must be a whole number"},
      {"fraction.jsonl", "{\"epoch\":2.5,\"train_loss\":1,\"train_acc\":1,\"test_acc\":1}\n",
       "epoch must be a whole number"},
      {"array.jsonl", "[1,2,3]\n", "not a JSON object"},
      {"bool.jsonl", "{\"epoch\":1,\"train_loss\":true,\"train_acc\":1,\"test_acc\":1}\n",
       "train_loss is true, expected a number"},
      {"null_epoch.jsonl", "{\"epoch\":null,\"train_loss\":1,\"train_acc\":1,\"test_acc\":1}\n",
       "epoch must be a whole number"},
      {"text.jsonl", "{\"epoch\":1,\"train_loss\":\"low\",\"train_acc\":1,\"test_acc\":1}\n",
       "not a metrics record"},
  };
  for (const auto& c : cases) {
    const std::string path = dir.file(c.name);
    write_text(path, c.text);
    const std::string msg = data_error_message([&] { read_metrics(path); });
    EXPECT_TRUE(Contains(msg, path + ":1: ")) << msg;
    EXPECT_TRUE(Contains(msg, c.says)) << msg;
  }
  const std::string crlf = dir.file("crlf.csv");
  write_text(crlf, "1,0.5,0.8,0.6,0.7,100,1,0.1\r\n\r\n");  // and a blank last line
  EXPECT_EQ(read_metrics(crlf).at(0).lr, 0.1);
}

// A diverged evaluation can have a NaN or infinite loss: CSV writes "nan"/"inf" and reads them
// back as they were; JSON writes null for both, read back as NaN. Either way the file loads
// (a plot leaves such points out) instead of failing on its own writer's output.
TEST(Metrics, NonFiniteValuesRoundTrip) {
  const test::TempDir dir;
  for (const char* name : {"run.jsonl", "run.csv"}) {
    SCOPED_TRACE(name);
    const std::string path = dir.file(name);
    EpochMetrics m = record(1);
    m.test_loss = std::nan("");
    m.train_loss = std::numeric_limits<double>::infinity();
    { MetricsWriter(path, false).write(m); }
    const std::vector<EpochMetrics> back = read_metrics(path);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_TRUE(std::isnan(back[0].test_loss));
    EXPECT_FALSE(std::isfinite(back[0].train_loss));
    EXPECT_EQ(back[0].test_acc, m.test_acc);
  }
}

TEST(Metrics, EpochLineShowsTheNumbers) {
  EpochMetrics m;
  m.epoch = 3;
  m.train_loss = 0.25;
  m.train_acc = 0.9;
  m.test_loss = 0.5;
  m.test_acc = 0.875;
  m.examples_per_sec = 12345.0;
  m.seconds = 1.5;
  const std::string line = format_epoch_line(m, 10, "cpu");
  for (const char* part : {"3/10", "train loss 0.2500", "train acc 0.9000", "test acc 0.8750",
                           "12345 examples/sec", "1.50 s", "cpu"})
    EXPECT_TRUE(Contains(line, part));
}

}  // namespace
}  // namespace cutrain
