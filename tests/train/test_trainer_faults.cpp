// Training faults: a diverging run stops with the epoch and step named; a stop request ends
// the epoch after the current step and the run continues from the cursor exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>

#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

const data::ImageDataset& train_set() {
  static const data::ImageDataset d = test::separable_images(320, 1);
  return d;
}
const data::ImageDataset& test_set() {
  static const data::ImageDataset d = test::separable_images(64, 2);
  return d;
}

struct FaultRun {
  Context ctx{Device::CPU};
  Sequential net = make_model("lenet");
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<Trainer> trainer;
  FaultRun(double lr, std::function<bool()> stop = nullptr) {
    net.build({1, 28, 28}, 32, Device::CPU, 3);
    opt = make_optimizer("sgd", net.parameters(), lr, ctx);
    TrainerOptions o;
    o.batch_size = 32;
    o.seed = 3;
    o.should_stop = std::move(stop);
    trainer = std::make_unique<Trainer>(net, *opt, ctx, train_set(), test_set(), o);
  }
};

TEST(TrainerFaults, NonFiniteLossNamesEpochAndStep) {
  FaultRun run(1e6);  // diverges within a few updates
  try {
    run.trainer->train_epoch(1);
    FAIL() << "expected TrainingError";
  } catch (const TrainingError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("epoch 1"), std::string::npos) << what;
    // In epoch 1 the step and the update of the run are the same number.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(what, m, std::regex(R"(at step (\d+) of 10 \(update (\d+) )")))
        << what;
    EXPECT_EQ(m[1].str(), m[2].str()) << what;
    EXPECT_GE(std::stoi(m[1].str()), 1) << what;
    EXPECT_NE(what.find("of 10"), std::string::npos) << what;  // 320 / 32 batches
    EXPECT_NE(what.find("--lr"), std::string::npos) << what;
  }
}

TEST(TrainerFaults, StopRequestEndsTheEpochAfterTheCurrentStep) {
  int steps = 0;
  FaultRun run(0.1, [&steps] { return ++steps == 4; });
  const EpochMetrics m = run.trainer->train_epoch(1);
  EXPECT_TRUE(m.interrupted);
  EXPECT_EQ(m.cursor.epoch, 1);
  EXPECT_EQ(m.cursor.batches_done, 4);
  EXPECT_EQ(run.opt->steps(), 4);
  EXPECT_EQ(m.examples, 4 * 32);
  EXPECT_TRUE(std::isfinite(m.cursor.loss_sum));
  EXPECT_GT(m.cursor.loss_sum, 0.0);
}

TEST(TrainerFaults, ContinuingFromTheCursorMatchesAnUninterruptedEpoch) {
  FaultRun straight(0.1);
  const EpochMetrics a = straight.trainer->train_epoch(1);

  int steps = 0;
  FaultRun split(0.1, [&steps] { return ++steps == 7; });
  const EpochMetrics first = split.trainer->train_epoch(1);
  ASSERT_TRUE(first.interrupted);
  const EpochMetrics b = split.trainer->continue_epoch(first.cursor);
  EXPECT_FALSE(b.interrupted);
  EXPECT_EQ(b.train_loss, a.train_loss);
  EXPECT_EQ(b.train_acc, a.train_acc);
  EXPECT_EQ(b.test_loss, a.test_loss);
  EXPECT_EQ(b.test_acc, a.test_acc);
  EXPECT_EQ(b.examples, 320 - 7 * 32);
  EXPECT_EQ(split.net.parameters()[0].value->to_vector(),
            straight.net.parameters()[0].value->to_vector());
}

TEST(TrainerFaults, CursorOutsideTheEpochIsRejected) {
  FaultRun run(0.1);
  EXPECT_THROW(run.trainer->continue_epoch({1, 11, 0.0, 0.0}), ConfigError);
  EXPECT_THROW(run.trainer->continue_epoch({1, -1, 0.0, 0.0}), ConfigError);
}

}  // namespace
}  // namespace cutrain
