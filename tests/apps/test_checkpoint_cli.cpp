// Checkpoints through the cutrain executable: --checkpoint-dir, --resume (same numbers as an
// uninterrupted run, configuration kept), eval of a checkpoint, and plot of a metrics file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cutrain/models/registry.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/metrics.h"
#include "support/cli.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"
#include "train_config.h"

namespace cutrain {
namespace {

using test::CliResult;
using test::Contains;
using test::file_contents;
using test::run_cli;

std::vector<nlohmann::json> json_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

// One data set for the suite; the three training runs (2 epochs with checkpoints, resumed to
// 3, and an uninterrupted 3-epoch run) happen once per process, for the tests that need them.
class CheckpointCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = std::make_unique<test::TempDir>();
    data_ = tmp_->file("data");
    ckpt_ = tmp_->file("run");
    straight_ = tmp_->file("straight");
    for (const std::string& d : {data_, straight_}) std::filesystem::create_directory(d);
    test::write_fashion_mnist_dir(data_, test::separable_images(256, 1),
                                  test::separable_images(64, 2));
    trained_ = false;
  }
  static void TearDownTestSuite() { tmp_.reset(); }
  static std::string last() { return ckpt_ + "/last.safetensors"; }
  static std::string common() { return " --device cpu --data '" + data_ + "'"; }
  static void train_once() {
    if (trained_) return;
    trained_ = true;
    first_ = run_cli("train --epochs 2 --batch-size 32 --lr 0.1 --checkpoint-dir '" + ckpt_ +
                     "' --metrics '" + ckpt_ + "/m.jsonl'" + common());
    resumed_ = run_cli("train --resume '" + last() + "' --epochs 3 --metrics '" + ckpt_ +
                       "/m.jsonl'" + common());
    straight_run_ = run_cli("train --epochs 3 --batch-size 32 --lr 0.1 --metrics '" + straight_ +
                            "/m.jsonl'" + common());
  }
  // For a test's first line: ASSERT_NO_FATAL_FAILURE(trained());
  static void trained() {
    train_once();
    ASSERT_EQ(first_.code, 0) << first_.output;
    ASSERT_EQ(resumed_.code, 0) << resumed_.output;
    ASSERT_EQ(straight_run_.code, 0) << straight_run_.output;
  }

  static std::unique_ptr<test::TempDir> tmp_;
  static std::string data_, ckpt_, straight_;
  static bool trained_;
  static CliResult first_, resumed_, straight_run_;
};
std::unique_ptr<test::TempDir> CheckpointCli::tmp_;
std::string CheckpointCli::data_, CheckpointCli::ckpt_, CheckpointCli::straight_;
bool CheckpointCli::trained_ = false;
CliResult CheckpointCli::first_, CheckpointCli::resumed_, CheckpointCli::straight_run_;

TEST_F(CheckpointCli, ResumedRunMatchesTheStraightRun) {
  ASSERT_NO_FATAL_FAILURE(trained());
  // The checkpoint directory holds one complete file, which the resumed run kept updating.
  EXPECT_TRUE(std::filesystem::is_regular_file(last()));
  EXPECT_FALSE(std::filesystem::exists(last() + ".tmp"));
  EXPECT_TRUE(Contains(resumed_.output, "resumed"));
  EXPECT_TRUE(Contains(resumed_.output, "epoch   3/3"));
  EXPECT_FALSE(Contains(resumed_.output, "epoch   1/3")) << "the resumed run redid epoch 1";
  EXPECT_FALSE(Contains(resumed_.output, "epoch   2/3")) << "the resumed run redid epoch 2";
  // Piped output: no progress bar.
  for (const CliResult* r : {&first_, &resumed_, &straight_run_}) {
    EXPECT_EQ(r->output.find('\r'), std::string::npos) << r->output;
    EXPECT_TRUE(Contains(r->output, "examples/sec"));
  }

  const std::vector<nlohmann::json> resumed = json_lines(ckpt_ + "/m.jsonl");
  const std::vector<nlohmann::json> straight = json_lines(straight_ + "/m.jsonl");
  ASSERT_EQ(resumed.size(), 3u) << "the resumed run must append to the metrics file";
  ASSERT_EQ(straight.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("epoch " + std::to_string(i + 1));
    EXPECT_EQ(resumed[i].at("epoch").get<int>(), static_cast<int>(i) + 1);
    ASSERT_TRUE(resumed[i].at("train_loss").is_number()) << resumed[i].dump();
    // The numbers as printed in the JSON: equal text means equal doubles.
    for (const char* key : {"train_loss", "train_acc", "test_loss", "test_acc", "lr"})
      EXPECT_EQ(resumed[i].at(key).dump(), straight[i].at(key).dump()) << key;
  }
}

TEST_F(CheckpointCli, ResumeKeepsTheStoredConfiguration) {
  ASSERT_NO_FATAL_FAILURE(trained());
  CliResult r = run_cli("train --resume '" + last() + "' --epochs 4 --lr 0.01" + common());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "--lr 0.01 differs from the resumed run's 0.1 (" + last() + ")"))
      << r.output;
  EXPECT_FALSE(Contains(r.output, "epoch   4/4")) << "it must not train";
  // An integer and a string flag the same way.
  r = run_cli("train --resume '" + last() + "' --epochs 4 --batch-size 64" + common());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "--batch-size 64 differs from the resumed run's 32")) << r.output;
  r = run_cli("train --resume '" + last() + "' --epochs 4 --optimizer adam" + common());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, R"(--optimizer "adam" differs from the resumed run's "sgd")"))
      << r.output;
  // The same value is not a conflict; nothing is left to do after 3 epochs.
  r = run_cli("train --resume '" + last() + "' --epochs 3 --lr 0.1" + common());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "nothing to do"));
}

TEST_F(CheckpointCli, EvalReportsTheCheckpoint) {
  ASSERT_NO_FATAL_FAILURE(trained());
  const CliResult r =
      run_cli("eval --checkpoint '" + last() + "' --device cpu --data '" + data_ + "'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "after epoch 3"));
  EXPECT_TRUE(Contains(r.output, "64 examples"));
  // The numbers: those the run recorded after epoch 3 (printed to 4 decimals; the evaluation
  // batch differs, so the loss may differ in the last float bits).
  double loss = -1, acc = -1;
  const size_t at = r.output.find("test loss ");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "test loss %lf  test acc %lf", &loss, &acc), 2)
      << r.output;
  const std::vector<nlohmann::json> m = json_lines(ckpt_ + "/m.jsonl");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_NEAR(loss, m[2].at("test_loss").get<double>(), 1.5e-4);
  EXPECT_NEAR(acc, m[2].at("test_acc").get<double>(), 1.5e-4);
}

// --per-class: a row per class whose examples add up to the test set and whose correct
// predictions add up to the accuracy eval reports.
TEST_F(CheckpointCli, EvalPerClassAddsUpToTheAccuracy) {
  ASSERT_NO_FATAL_FAILURE(trained());
  const CliResult r =
      run_cli("eval --checkpoint '" + last() + "' --per-class --batch-size 20" + common());
  ASSERT_EQ(r.code, 0) << r.output;
  double loss = -1, acc = -1;
  const size_t at = r.output.find("test loss ");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "test loss %lf  test acc %lf", &loss, &acc), 2);
  const size_t header = r.output.find("most often taken for");
  ASSERT_NE(header, std::string::npos) << r.output;
  std::istringstream rows(r.output.substr(r.output.find('\n', header) + 1));
  std::string line;
  int classes = 0;
  long long examples = 0;
  double correct = 0;
  while (std::getline(rows, line) && !line.empty()) {
    // "ankle boot" has a space: the numbers are the two fields after the name's 12 columns.
    long long n = 0;
    double a = 0;
    ASSERT_EQ(std::sscanf(line.c_str() + 12, "%lld %lf", &n, &a), 2) << line;
    ++classes;
    examples += n;
    correct += a * static_cast<double>(n);
  }
  EXPECT_EQ(classes, 10) << r.output;
  EXPECT_EQ(examples, 64);
  EXPECT_NEAR(correct / 64.0, acc, 1e-3) << r.output;
  EXPECT_TRUE(Contains(r.output, "t-shirt")) << r.output;
}

TEST_F(CheckpointCli, EvalWithPreciseBnRecomputesTheStatistics) {
  const std::string dir = tmp_->file("bn");
  const CliResult t = run_cli(
      "train --model lenet-bn --epochs 1 --batch-size 32 --lr 1.0 "
      "--checkpoint-dir '" +
      dir + "'" + common());
  ASSERT_EQ(t.code, 0) << t.output;
  const std::string ckpt = dir + "/last.safetensors", before = file_contents(ckpt);
  const CliResult r =
      run_cli("eval --checkpoint '" + ckpt + "' --batch-size 100 --precise-bn" + common());
  EXPECT_EQ(r.code, 0) << r.output;
  // 256 training examples: two full batches of 100 (a partial one has too few for statistics).
  const size_t at = r.output.find("with batch-norm statistics recomputed over 200 training");
  ASSERT_NE(at, std::string::npos) << r.output;
  double loss = -1, acc = -1;
  const size_t line = r.output.rfind("test loss ", at);
  ASSERT_EQ(std::sscanf(r.output.c_str() + line, "test loss %lf  test acc %lf", &loss, &acc), 2);
  EXPECT_TRUE(std::isfinite(loss) && loss > 0) << r.output;
  EXPECT_TRUE(acc >= 0 && acc <= 1) << r.output;
  EXPECT_EQ(file_contents(ckpt), before) << "eval must not change the checkpoint";

  const CliResult small =
      run_cli("eval --checkpoint '" + ckpt + "' --batch-size 1000 --precise-bn" + common());
  EXPECT_EQ(small.code, 2) << small.output;
  EXPECT_TRUE(Contains(small.output, "--precise-bn")) << small.output;
  EXPECT_TRUE(Contains(small.output, "256 examples, less than one --batch-size (1000)"))
      << small.output;
}

// train --precise-bn recomputes the statistics before each evaluation over the epoch's full
// batches: eval --precise-bn of its checkpoint, over the same batches of the same size, finds
// nothing to change, and both of its evaluations repeat the run's recorded test numbers.
TEST_F(CheckpointCli, TrainWithPreciseBnEvaluatesWithRecomputedStatistics) {
  const std::string dir = tmp_->file("precise");
  const CliResult t = run_cli(
      "train --model lenet-bn --epochs 2 --batch-size 32 --lr 1.0 --precise-bn "
      "--checkpoint-dir '" +
      dir + "' --metrics '" + dir + "/m.jsonl'" + common());
  ASSERT_EQ(t.code, 0) << t.output;
  const CliResult r = run_cli("eval --checkpoint '" + dir +
                              "/last.safetensors' --batch-size 32 --precise-bn" + common());
  ASSERT_EQ(r.code, 0) << r.output;
  std::vector<std::pair<double, double>> evals;
  for (size_t at = r.output.find("test loss "); at != std::string::npos;
       at = r.output.find("test loss ", at + 1)) {
    double loss = -1, acc = -1;
    ASSERT_EQ(std::sscanf(r.output.c_str() + at, "test loss %lf  test acc %lf", &loss, &acc), 2);
    evals.emplace_back(loss, acc);
  }
  ASSERT_EQ(evals.size(), 2u) << r.output;
  EXPECT_EQ(evals[0], evals[1]) << r.output;
  const std::vector<nlohmann::json> m = json_lines(dir + "/m.jsonl");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(evals[0].first, m[1].at("test_loss").get<double>(), 1.5e-4);
  EXPECT_NEAR(evals[0].second, m[1].at("test_acc").get<double>(), 1.5e-4);
  // A resumed run keeps the setting (the configuration is a JSON string inside the header's
  // JSON, its quotes escaped).
  const CliResult c =
      run_cli("train --resume '" + dir + "/last.safetensors' --epochs 3" + common());
  EXPECT_EQ(c.code, 0) << c.output;
  EXPECT_TRUE(Contains(file_contents(dir + "/last.safetensors"), "precise_bn\\\":true"))
      << "the resumed run's checkpoint must keep --precise-bn";
}

TEST_F(CheckpointCli, EvalOfADamagedCheckpointNamesIt) {
  const std::string good = tmp_->file("good.safetensors");
  {
    Context ctx(Device::CPU);
    Sequential net = make_model("lenet");
    net.build({1, 28, 28}, 8, Device::CPU, 0);
    save_checkpoint(good, {"lenet", 1, "{}"}, net, nullptr, nullptr, ctx);
  }
  ASSERT_EQ(run_cli("eval --checkpoint '" + good + "'" + common()).code, 0);
  const std::string bytes = file_contents(good);
  const std::string cut = tmp_->file("cut.safetensors");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string junk = tmp_->file("junk.safetensors");
  std::ofstream(junk, std::ios::binary) << "this is not a checkpoint at all, just some text\n";
  const std::string gone = tmp_->file("gone.safetensors");
  // Intact, but naming a model this build does not have, in its metadata and configuration.
  const std::string alien = tmp_->file("alien.safetensors");
  {
    Context ctx(Device::CPU);
    Sequential net = make_model("lenet");
    net.build({1, 28, 28}, 8, Device::CPU, 0);
    app::TrainConfig config;
    config.model = "lenet-xl";
    save_checkpoint(alien, {"lenet-xl", 1, app::run_config_json(config)}, net, nullptr, nullptr,
                    ctx);
  }
  for (const std::string& path : {cut, junk, gone, alien}) {
    const CliResult r = run_cli("eval --checkpoint '" + path + "'" + common());
    EXPECT_EQ(r.code, 1) << r.output;
    EXPECT_TRUE(Contains(r.output, path));
    EXPECT_FALSE(Contains(r.output, "test acc"));
    // The same file given to train --resume: a runtime error naming it, before any training.
    const CliResult t =
        run_cli("train --resume '" + path + "' --epochs 2 --no-progress" + common());
    EXPECT_EQ(t.code, 1) << t.output;
    EXPECT_TRUE(Contains(t.output, path)) << t.output;
    EXPECT_FALSE(Contains(t.output, "train loss")) << t.output;
  }
}

TEST_F(CheckpointCli, PlotDrawsTheMetrics) {
  const std::string metrics = tmp_->file("plot.jsonl"), svg = tmp_->file("c.svg");
  {
    MetricsWriter w(metrics, false);
    for (int64_t e = 1; e <= 3; ++e) {
      EpochMetrics m;
      m.epoch = e;
      m.train_loss = 1.0 / static_cast<double>(e);
      m.train_acc = m.test_acc = 0.3 * static_cast<double>(e);
      w.write(m);
    }
  }
  CliResult r = run_cli("plot '" + metrics + "' -o '" + svg + "'");
  EXPECT_EQ(r.code, 0) << r.output;
  const std::string text = file_contents(svg);
  EXPECT_TRUE(Contains(text, "<svg"));
  EXPECT_TRUE(Contains(text, "</svg>"));
  EXPECT_TRUE(Contains(text, "train loss"));
  EXPECT_FALSE(std::filesystem::exists(svg + ".tmp"));

  const std::string missing = tmp_->file("none.jsonl");
  r = run_cli("plot '" + missing + "' -o '" + tmp_->file("none.svg") + "'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, missing));
  EXPECT_FALSE(std::filesystem::exists(tmp_->file("none.svg")));
}

}  // namespace
}  // namespace cutrain
