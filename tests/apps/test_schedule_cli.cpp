// 'cutrain schedule' and the scheduler flags of 'cutrain train', as a user runs them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::run_cli;
constexpr double kPi = 3.14159265358979323846;

// The table printed by 'cutrain schedule': the '#' header and one row of numbers per t.
struct Table {
  std::string header;
  std::vector<std::vector<double>> rows;
};

Table parse_table(const std::string& output) {
  Table table;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("#", 0) == 0) {
      table.header = line;
      continue;
    }
    if (line.empty() || line.rfind("plot written", 0) == 0) continue;
    std::istringstream fields(line);
    std::vector<double> row;
    for (double v; fields >> v;) row.push_back(v);
    table.rows.push_back(row);
  }
  return table;
}

TEST(ScheduleCli, PrintsWarmUpCosineTable) {
  const CliResult r = run_cli(
      "schedule --scheduler 'cosine:max_update=20,final_lr=0.01,warmup=5' --lr 0.3 "
      "--steps 30");
  ASSERT_EQ(r.code, 0) << r.output;
  const Table t = parse_table(r.output);
  EXPECT_TRUE(Contains(t.header, "cosine"));
  EXPECT_TRUE(Contains(t.header, "warmup"));
  ASSERT_EQ(t.rows.size(), 30u) << r.output;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    ASSERT_EQ(t.rows[i].size(), 2u) << "row " << i;
    EXPECT_EQ(t.rows[i][0], static_cast<double>(i));
  }
  auto expected = [](int t) {
    if (t < 5) return 0.3 * t / 5;
    if (t >= 20) return 0.01;
    return 0.01 + 0.29 / 2 * (1 + std::cos(kPi * (t - 5) / 15));
  };
  for (int i : {0, 2, 4, 5, 9, 12, 19, 20, 29})
    EXPECT_NEAR(t.rows[i][1], expected(i), 1e-6) << "t=" << i;  // printed with %.6g
}

TEST(ScheduleCli, TwoSchedulersPrintTwoColumns) {
  const CliResult r = run_cli(
      "schedule --scheduler sqrt --scheduler 'multifactor:milestones=15;30,alpha=0.5' --lr 0.5 "
      "--steps 40");
  ASSERT_EQ(r.code, 0) << r.output;
  const Table t = parse_table(r.output);
  EXPECT_TRUE(Contains(t.header, "sqrt"));
  EXPECT_TRUE(Contains(t.header, "multifactor"));
  ASSERT_EQ(t.rows.size(), 40u);
  for (const auto& row : t.rows) ASSERT_EQ(row.size(), 3u);
  EXPECT_NEAR(t.rows[3][1], 0.25, 1e-7);
  EXPECT_NEAR(t.rows[14][2], 0.5, 1e-7);
  EXPECT_NEAR(t.rows[15][2], 0.25, 1e-7);
  EXPECT_NEAR(t.rows[39][2], 0.125, 1e-7);
}

TEST(ScheduleCli, PlotWritesAnSvgWithOneLinePerSchedule) {
  const test::TempDir dir;
  const std::string svg_path = dir.file("lr.svg");
  const CliResult r = run_cli(
      "schedule --scheduler 'cosine:max_update=20,final_lr=0.01' --scheduler constant --lr 0.3 "
      "--steps 25 --plot '" +
      svg_path + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(svg_path);
  ASSERT_TRUE(in.good()) << r.output;
  std::ostringstream s;
  s << in.rdbuf();
  const std::string svg = s.str();
  EXPECT_TRUE(test::StartsWith(svg, "<svg"));
  EXPECT_TRUE(Contains(svg, "</svg>"));
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_TRUE(Contains(svg, "cosine:max_update=20,final_lr=0.01"));
  EXPECT_FALSE(std::filesystem::exists(svg_path + ".tmp"));
}

TEST(ScheduleCli, BadSpecIsAUsageErrorNamingTheKey) {
  CliResult r = run_cli("schedule --scheduler 'cosine:max_update=20,bogus_key=1' --steps 3");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "bogus_key"));
  r = run_cli("schedule --scheduler 'cosine:max_update=abc'");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "max_update"));
  EXPECT_TRUE(Contains(r.output, "abc"));
  r = run_cli("schedule --scheduler nosuchschedule");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "nosuchschedule"));
  r = run_cli("schedule --lr 0.1");  // --scheduler is required
  EXPECT_EQ(r.code, 2) << r.output;
}

class ScheduleTrainCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();
    test::write_fashion_mnist_dir(dir_->path().string(), test::separable_images(96, 1),
                                  test::separable_images(32, 2));
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::string data() { return dir_->path().string(); }
  static std::unique_ptr<test::TempDir> dir_;
};
std::unique_ptr<test::TempDir> ScheduleTrainCli::dir_;

TEST_F(ScheduleTrainCli, UnknownSchedulerIsAUsageError) {
  const CliResult r = run_cli("train --scheduler bogus --device cpu --epochs 1 --data " + data());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "bogus"));
  EXPECT_FALSE(Contains(r.output, "epoch   1/1"));
}

TEST_F(ScheduleTrainCli, BadScheduleUnitIsAUsageError) {
  const CliResult r =
      run_cli("train --scheduler constant --schedule-unit hour --device cpu --data " + data());
  EXPECT_EQ(r.code, 2) << r.output;
}

TEST_F(ScheduleTrainCli, HelpMentionsTheSchedulerFlags) {
  const CliResult r = run_cli("train --help");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "--scheduler"));
  EXPECT_TRUE(Contains(r.output, "--schedule-unit"));
  EXPECT_TRUE(Contains(r.output, "cosine"));
}

TEST_F(ScheduleTrainCli, MetricsRecordTheScheduledRate) {
  const test::TempDir out;
  const std::string metrics = out.file("m.jsonl");
  const CliResult r = run_cli(
      "train --device cpu --epochs 3 --batch-size 32 --lr 0.2 "
      "--scheduler 'step:step_size=1,gamma=0.5' --metrics '" +
      metrics + "' --data " + data());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "step"));
  std::ifstream in(metrics);
  std::vector<double> lrs;
  for (std::string line; std::getline(in, line);)
    lrs.push_back(nlohmann::json::parse(line)["lr"].get<double>());
  ASSERT_EQ(lrs.size(), 3u);
  EXPECT_DOUBLE_EQ(lrs[0], 0.2);
  EXPECT_DOUBLE_EQ(lrs[1], 0.1);
  EXPECT_DOUBLE_EQ(lrs[2], 0.05);
}

TEST_F(ScheduleTrainCli, PerStepUnitCountsUpdates) {
  // 96 images at batch 32: 3 updates per epoch; the last of epoch 2 is update 5.
  const test::TempDir out;
  const std::string metrics = out.file("m.jsonl");
  const CliResult r = run_cli(
      "train --device cpu --epochs 2 --batch-size 32 --lr 0.4 --schedule-unit step "
      "--scheduler 'step:step_size=1,gamma=0.5' --metrics '" +
      metrics + "' --data " + data());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(metrics);
  std::vector<double> lrs;
  for (std::string line; std::getline(in, line);)
    lrs.push_back(nlohmann::json::parse(line)["lr"].get<double>());
  ASSERT_EQ(lrs.size(), 2u);
  EXPECT_DOUBLE_EQ(lrs[0], 0.4 / 4);
  EXPECT_DOUBLE_EQ(lrs[1], 0.4 / 32);
}

}  // namespace
}  // namespace cutrain
