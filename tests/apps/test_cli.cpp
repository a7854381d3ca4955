// The cutrain executable as a user meets it: flags, exit codes, messages, metrics files.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cutrain/device.h"
#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::run_cli;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>();  // one data set for the whole suite
    test::write_fashion_mnist_dir(dir_->path().string(), test::separable_images(300, 1),
                                  test::separable_images(50, 2));
  }
  static void TearDownTestSuite() { dir_.reset(); }
  static std::string data() { return dir_->path().string(); }
  static std::unique_ptr<test::TempDir> dir_;
};
std::unique_ptr<test::TempDir> Cli::dir_;

TEST_F(Cli, HelpListsTheFlags) {
  const CliResult r = run_cli("train --help");
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* flag : {"--model", "--optimizer", "--lr", "--batch-size", "--epochs", "--device",
                           "--data", "--seed", "--metrics"})
    EXPECT_TRUE(Contains(r.output, flag));
}

TEST_F(Cli, UnknownFlagIsAUsageError) {
  const CliResult r = run_cli("train --bogus 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.output, "--bogus"));
  EXPECT_TRUE(Contains(r.output, "Usage"));
}

// Exit 2, and the first line (before the usage text, which lists every flag) names the flag,
// the value given and what was expected.
TEST_F(Cli, BadValuesAreUsageErrors) {
  struct Case {
    const char* args;
    std::vector<const char*> first_line;
  };
  const Case cases[] = {{"train --lr -1", {"--lr", "expected a number > 0", "-1"}},
                        {"train --lr abc", {"--lr", "expected a number > 0", "'abc'"}},
                        {"train --lr nan", {"--lr", "expected a number > 0", "'nan'"}},
                        {"train --weight-decay -0.5", {"--weight-decay", ">= 0", "-0.5"}},
                        {"train --batch-size 0", {"--batch-size", "0", "1"}},
                        {"train --model resnet-9000", {"--model", "resnet-9000", "lenet"}},
                        {"train --device tpu", {"--device", "tpu", "cuda"}},
                        {"train --epochs 0", {"--epochs", "0"}},
                        {"train --optimizer adamx", {"--optimizer", "adamx", "adamw"}},
                        {"schedule --lr -2", {"--lr", "expected a number >= 0", "-2"}},
                        // Checked before the data is read: no data directory is needed.
                        {"train --momentum 1.5 --data /nonexistent",
                         {"--momentum", "[0, 1)", "1.5"}},
                        {"train --optimizer adam --beta2 1 --data /nonexistent",
                         {"--beta2", "[0, 1)", "1"}},
                        {"train --optimizer rmsprop --eps 0 --data /nonexistent", {"--eps", "> 0"}},
                        {"", {}}};
  for (const Case& c : cases) {
    const CliResult r = run_cli(c.args);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.output;
    const std::string first = r.output.substr(0, r.output.find('\n'));
    for (const char* part : c.first_line)
      EXPECT_TRUE(Contains(first, part)) << c.args << ": '" << part << "' not in: " << first;
    EXPECT_LT(first.size(), 200u) << c.args << ": " << first;
  }
}

TEST_F(Cli, CudaOnlyFlagsOnTheCpuAreUsageErrors) {
  for (const std::string flag : {"--cuda-graph", "--data-on-device", "--tf32"}) {
    for (const std::string cmd : {"train", "bench train"}) {
      const CliResult r = run_cli(cmd + " --device cpu " + flag + " --data " + data());
      EXPECT_EQ(r.code, 2) << cmd << " " << flag << "\n" << r.output;
      EXPECT_TRUE(Contains(r.output, flag + " needs a CUDA device")) << r.output;
    }
  }
  // --tf32 also where a model only runs: before the checkpoint is read (usage errors first).
  for (const std::string cmd : {"time --device cpu --tf32",
                                "eval --device cpu --tf32 --checkpoint /nonexistent.safetensors"}) {
    const CliResult r = run_cli(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.output;
    EXPECT_TRUE(Contains(r.output, "--tf32 needs a CUDA device")) << r.output;
  }
}

TEST_F(Cli, DropLastNeedsOneFullBatch) {
  const CliResult ok = run_cli(
      "train --device cpu --model lenet-bn --epochs 1 --batch-size 32 "
      "--train-limit 65 --drop-last --data " +
      data());
  EXPECT_EQ(ok.code, 0) << ok.output;  // 65 = 2 x 32 + 1: without --drop-last, a BN batch of 1
  const CliResult r = run_cli(
      "train --device cpu --epochs 1 --batch-size 32 --train-limit 10 "
      "--drop-last --data " +
      data());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "--drop-last")) << r.output;
}

TEST_F(Cli, MissingDataSaysHowToInstallIt) {
  const CliResult r = run_cli("train --device cpu --data /nonexistent/fmnist");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.output, "/nonexistent/fmnist"));
  EXPECT_TRUE(Contains(r.output, "dataset-fashion-mnist"));
}

TEST_F(Cli, CudaWithoutADeviceIsAnError) {
  if (cuda_unusable_reason().empty()) GTEST_SKIP() << "a CUDA device is usable here";
  const CliResult r = run_cli("train --device cuda --data " + data());
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(Contains(r.output, "no usable CUDA device"));
}

TEST_F(Cli, AutoSaysWhichDeviceAndWhy) {
  const CliResult r = run_cli("train --device auto --epochs 1 --batch-size 64 --data " + data());
  ASSERT_EQ(r.code, 0) << r.output;
  if (cuda_unusable_reason().empty())
    EXPECT_TRUE(Contains(r.output, "device: cuda"));
  else
    EXPECT_TRUE(
        Contains(r.output, "device: cpu (no usable CUDA device: " + cuda_unusable_reason()));
}

TEST_F(Cli, TrainsAndWritesJsonLines) {
  const test::TempDir out;
  const std::string metrics = out.file("m.jsonl");
  const CliResult r = run_cli("train --device cpu --epochs 2 --batch-size 32 --lr 0.1 --metrics " +
                              metrics + " --data " + data());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "epoch   1/2"));
  EXPECT_TRUE(Contains(r.output, "examples/sec"));
  std::ifstream in(metrics);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    const nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key :
         {"epoch", "train_loss", "train_acc", "test_acc", "examples_per_sec", "seconds", "lr"})
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << line;
    EXPECT_EQ(j["epoch"].get<int>(), lines);
    EXPECT_DOUBLE_EQ(j["lr"].get<double>(), 0.1);
  }
  EXPECT_EQ(lines, 2);
}

TEST_F(Cli, DataDirectoryFromTheEnvironment) {
  const CliResult r =
      run_cli("train --device cpu --epochs 1 --train-limit 64", "CUTRAIN_DATA='" + data() + "'");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, data()));
}

TEST_F(Cli, UnwritableMetricsFileIsNamed) {
  const CliResult r = run_cli(
      "train --device cpu --epochs 1 --metrics /nonexistent/dir/m.jsonl "
      "--data " +
      data());
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(Contains(r.output, "/nonexistent/dir/m.jsonl"));
}

}  // namespace
}  // namespace cutrain
