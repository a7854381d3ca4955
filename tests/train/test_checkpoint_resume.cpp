// Resuming from a checkpoint continues a run exactly: epochs 2-3 after save/load in fresh
// objects give bit-identical metrics and weights to an uninterrupted run.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cutrain/models/registry.h"
#include "cutrain/train/checkpoint.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

const data::ImageDataset& train_set() {
  static const data::ImageDataset d = test::separable_images(256, 11);
  return d;
}
const data::ImageDataset& test_set() {
  static const data::ImageDataset d = test::separable_images(64, 12);
  return d;
}

// One process's view of a run: fresh model, momentum SGD and a cosine schedule over 3 epochs.
struct Session {
  Context ctx{Device::CPU};
  Sequential net = make_model("lenet");
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<Scheduler> sched;
  std::unique_ptr<Trainer> trainer;

  explicit Session(uint64_t init_seed,
                   const std::string& schedule = "cosine:max_update=3,final_lr=0.001") {
    net.build({1, 28, 28}, 32, Device::CPU, init_seed);
    opt = make_optimizer("momentum", net.parameters(), 0.05, ctx);
    sched = make_scheduler(schedule, 0.05);
    TrainerOptions o;
    o.batch_size = 32;
    o.seed = 21;  // shuffling; fixed for the run
    o.scheduler = sched.get();
    trainer = std::make_unique<Trainer>(net, *opt, ctx, train_set(), test_set(), o);
  }
  std::vector<float> flat_weights() {
    std::vector<float> out;
    for (const NamedTensor& t : net.state_tensors()) {
      const std::vector<float> v = t.tensor->to_vector();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }
};

void expect_same_epoch(const EpochMetrics& a, const EpochMetrics& b) {
  SCOPED_TRACE("epoch " + std::to_string(a.epoch));
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.train_loss, b.train_loss);
  EXPECT_EQ(a.train_acc, b.train_acc);
  EXPECT_EQ(a.test_loss, b.test_loss);
  EXPECT_EQ(a.test_acc, b.test_acc);
  EXPECT_EQ(a.lr, b.lr);
  EXPECT_EQ(a.examples, b.examples);
}

TEST(CheckpointResume, ResumedRunEqualsTheStraightRun) {
  Session straight(3);
  std::vector<EpochMetrics> want;
  for (int64_t e = 1; e <= 3; ++e) want.push_back(straight.trainer->train_epoch(e));
  // The schedule moves (so a lost epoch counter would show) and the run learns something.
  ASSERT_NE(want[1].lr, want[2].lr);
  ASSERT_LT(want[2].train_loss, want[0].train_loss);

  const test::TempDir dir;
  const std::string path = dir.file("last.safetensors");
  {
    Session first(3);
    const EpochMetrics m1 = first.trainer->train_epoch(1);
    expect_same_epoch(m1, want[0]);
    save_checkpoint(path, {"lenet", 1, "{}"}, first.net, first.opt.get(), first.sched.get(),
                    first.ctx);
  }
  Session resumed(1234);  // other initial weights: everything must come from the file
  ASSERT_NE(resumed.flat_weights(), straight.flat_weights());
  const CheckpointInfo info =
      load_checkpoint(path, resumed.net, resumed.opt.get(), resumed.sched.get(), resumed.ctx);
  ASSERT_EQ(info.epoch, 1);
  for (int64_t e = info.epoch + 1; e <= 3; ++e)
    expect_same_epoch(resumed.trainer->train_epoch(e), want[static_cast<size_t>(e - 1)]);
  EXPECT_EQ(resumed.opt->steps(), straight.opt->steps());
  EXPECT_TRUE(resumed.flat_weights() == straight.flat_weights()) << "final weights differ";
}

TEST(CheckpointResume, WithoutTheOptimizerStateTheRunDiverges) {
  // The control: restoring the weights alone (momentum buffers lost) must change epoch 2, or
  // the test above could not notice a missing optimizer state.
  const test::TempDir dir;
  const std::string path = dir.file("last.safetensors");
  Session first(3);
  first.trainer->train_epoch(1);
  save_checkpoint(path, {"lenet", 1, "{}"}, first.net, first.opt.get(), nullptr, first.ctx);
  const EpochMetrics want = first.trainer->train_epoch(2);
  Session weights_only(3);
  load_checkpoint(path, weights_only.net, nullptr, nullptr, weights_only.ctx);
  EXPECT_NE(weights_only.trainer->train_epoch(2).train_loss, want.train_loss);
}

// The cosine schedule above is a pure function of the epoch; a plateau scheduler has state
// (best loss, bad epochs, current rate), which the checkpoint must carry. Every epoch after the
// first counts as bad here (an improvement needs a thousandfold drop), so the rate halves after
// epoch 2: a resume from epoch 1 that lost the state would observe epoch 2 as its first and
// keep the full rate in epoch 3.
TEST(CheckpointResume, PlateauSchedulerStateSurvivesTheResume) {
  const std::string plateau = "plateau:patience=0,factor=0.5,threshold=0.999";
  Session straight(3, plateau);
  std::vector<EpochMetrics> want;
  for (int64_t e = 1; e <= 3; ++e) want.push_back(straight.trainer->train_epoch(e));
  ASSERT_EQ(want[2].lr, 0.5 * want[1].lr);

  const test::TempDir dir;
  const std::string path = dir.file("last.safetensors");
  {
    Session first(3, plateau);
    first.trainer->train_epoch(1);
    save_checkpoint(path, {"lenet", 1, "{}"}, first.net, first.opt.get(), first.sched.get(),
                    first.ctx);
  }
  Session resumed(1234, plateau);
  load_checkpoint(path, resumed.net, resumed.opt.get(), resumed.sched.get(), resumed.ctx);
  for (int64_t e = 2; e <= 3; ++e)
    expect_same_epoch(resumed.trainer->train_epoch(e), want[static_cast<size_t>(e - 1)]);

  // The control: the same resume without the scheduler's state keeps the full rate.
  Session control(1234, plateau);
  load_checkpoint(path, control.net, control.opt.get(), nullptr, control.ctx);
  control.trainer->train_epoch(2);
  EXPECT_NE(control.trainer->train_epoch(3).lr, want[2].lr);
}

}  // namespace
}  // namespace cutrain
