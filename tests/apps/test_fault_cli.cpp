// Faults as a user meets them: SIGINT/SIGTERM mid-epoch (injected deterministically with
// CUTRAIN_FAULT_SIGNAL_AT_STEP), and a diverging run.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cutrain/io/safetensors.h"
#include "cutrain/train/checkpoint.h"
#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

using test::run_cli;

class FaultCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = std::make_unique<test::TempDir>();
    test::write_fashion_mnist_dir(data_->path().string(), test::separable_images(320, 1),
                                  test::separable_images(64, 2));
  }
  static void TearDownTestSuite() { data_.reset(); }
  static std::string train_args(const std::string& extra, const std::string& lr = "0.1") {
    return "train --device cpu --batch-size 32 --epochs 2 --lr " + lr + " --data " +
           data_->path().string() + " " + extra;
  }
  static std::unique_ptr<test::TempDir> data_;
};
std::unique_ptr<test::TempDir> FaultCli::data_;

std::vector<nlohmann::json> records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST_F(FaultCli, InterruptWritesACheckpointAndTheResumedRunMatches) {
  const test::TempDir out;
  const std::string ck = out.file("ck"), metrics = out.file("m.jsonl");
  const test::CliResult stopped = run_cli(
      train_args("--checkpoint-dir " + ck + " --metrics " + metrics),
      "CUTRAIN_FAULT_SIGNAL_AT_STEP=13");  // epoch 2, step 3 (10 steps per epoch)
  EXPECT_EQ(stopped.code, 130) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by Interrupt in epoch 2 after step 3"), std::string::npos)
      << stopped.output;
  EXPECT_NE(stopped.output.find("--resume " + ck + "/last.safetensors"), std::string::npos);
  ASSERT_TRUE(std::filesystem::exists(ck + "/last.safetensors"));

  const test::CliResult resumed =
      run_cli("train --resume " + ck + "/last.safetensors --metrics " + metrics +
              " --data " + data_->path().string());
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("and 3 steps of epoch 2"), std::string::npos) << resumed.output;

  const std::string straight_metrics = out.file("straight.jsonl");
  ASSERT_EQ(run_cli(train_args("--metrics " + straight_metrics)).code, 0);
  const auto a = records(metrics), b = records(straight_metrics);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (const char* key : {"train_loss", "train_acc", "test_loss", "test_acc", "lr"})
    EXPECT_EQ(a[1][key], b[1][key]) << key;
}

TEST_F(FaultCli, TermExitsWith143) {
  const test::CliResult r = run_cli(train_args(""), "CUTRAIN_FAULT_SIGNAL_AT_STEP=2:TERM");
  EXPECT_EQ(r.code, 143) << r.output;
  EXPECT_NE(r.output.find("stopped by Terminated in epoch 1 after step 2"), std::string::npos)
      << r.output;
  // A run stopped by a time limit (timeout sends TERM) still reports the memory it needed,
  // after the stop line.
  const size_t peak = r.output.find("tensors at the peak of training");
  EXPECT_NE(peak, std::string::npos) << r.output;
  EXPECT_GT(peak, r.output.find("stopped by")) << r.output;
}

// A second signal while the first is being honoured kills the run at once: no "stopped by"
// report and no checkpoint (the first would have been written only after the step).
TEST_F(FaultCli, SecondSignalKillsAtOnce) {
  const test::TempDir out;
  const std::string ck = out.file("ck");
  const test::CliResult r =
      run_cli(train_args("--checkpoint-dir " + ck), "CUTRAIN_FAULT_SIGNAL_AT_STEP=3:twice");
  // Killed by SIGINT: the shell reports 130, or the status is a signal (-1 from run_cli).
  EXPECT_TRUE(r.code == 130 || r.code == -1) << r.code << "\n" << r.output;
  EXPECT_EQ(r.output.find("stopped by"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(ck + "/last.safetensors"));
  // The control: one signal at the same step stops cleanly and saves.
  const std::string ck1 = out.file("ck1");
  const test::CliResult once =
      run_cli(train_args("--checkpoint-dir " + ck1), "CUTRAIN_FAULT_SIGNAL_AT_STEP=3");
  EXPECT_EQ(once.code, 130) << once.output;
  EXPECT_TRUE(std::filesystem::exists(ck1 + "/last.safetensors")) << once.output;
}

// SIGTERM (a scheduler's preemption) saves like SIGINT: the checkpoint holds the step reached.
TEST_F(FaultCli, TermWithACheckpointDirSavesTheStepReached) {
  const test::TempDir out;
  const std::string ck = out.file("ck");
  const test::CliResult r =
      run_cli(train_args("--checkpoint-dir " + ck), "CUTRAIN_FAULT_SIGNAL_AT_STEP=4:TERM");
  EXPECT_EQ(r.code, 143) << r.output;
  const std::string last = ck + "/last.safetensors";
  ASSERT_TRUE(std::filesystem::exists(last)) << r.output;
  const CheckpointInfo info = read_checkpoint_info(last);
  EXPECT_EQ(info.epoch, 0) << "no epoch completed";
  EXPECT_EQ(info.batches_done, 4);
  EXPECT_NE(r.output.find("--resume " + last), std::string::npos) << r.output;
}

TEST_F(FaultCli, DivergenceNamesTheStepAndKeepsNoBrokenCheckpoint) {
  const test::TempDir out;
  const std::string ck = out.file("ck");
  const test::CliResult r = run_cli(train_args("--checkpoint-dir " + ck, "1000000"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("non-finite training loss in epoch 1 at step"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(ck + "/last.safetensors"));
}

// Divergence after a good epoch: the run stops with the epoch and step, and the checkpoint on
// disk is still epoch 1's, finite (nothing of the diverged epoch is saved over it).
TEST_F(FaultCli, DivergenceKeepsTheLastGoodCheckpoint) {
  const test::TempDir out;
  const std::string ck = out.file("ck");
  // lr 0.1 in epoch 1, 1e6 in epoch 2.
  const test::CliResult r =
      run_cli(train_args("--checkpoint-dir " + ck + " --scheduler step:step_size=1,gamma=1e7"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("non-finite training loss in epoch 2 at step"), std::string::npos)
      << r.output;
  const std::string last = ck + "/last.safetensors";
  ASSERT_TRUE(std::filesystem::exists(last)) << r.output;
  EXPECT_EQ(read_checkpoint_info(last).epoch, 1);
  EXPECT_FALSE(std::filesystem::exists(last + ".tmp"));
  int64_t values = 0;
  for (const NamedArray& t : read_safetensors(last).tensors)
    for (float v : t.values) {
      ASSERT_TRUE(std::isfinite(v)) << t.name;
      ++values;
    }
  EXPECT_GT(values, 60000);  // LeNet's weights at least
}

}  // namespace
}  // namespace cutrain
