// Schedulers inside the trainer (CPU, generated data): the rate each epoch or update uses is
// the schedule's, and a schedule changes training exactly as setting that rate by hand does.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cutrain/models/registry.h"
#include "cutrain/schedule/scheduler.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

constexpr int64_t kBatch = 32;
constexpr int64_t kBatchesPerEpoch = 3;  // 96 training images

const data::ImageDataset& train_set() {
  static const data::ImageDataset d = test::separable_images(96, 1);
  return d;
}
const data::ImageDataset& test_set() {
  static const data::ImageDataset d = test::separable_images(32, 2);
  return d;
}

// A LeNet, SGD and a trainer with the given scheduler; `before_epoch` may change the optimizer
// by hand before each epoch.
struct Training {
  Context ctx{Device::CPU};
  Sequential net = make_model("lenet");
  std::unique_ptr<Optimizer> opt;
  std::unique_ptr<Trainer> trainer;

  Training(double lr, Scheduler* sched, ScheduleUnit unit = ScheduleUnit::Epoch) {
    net.build({1, 28, 28}, kBatch, Device::CPU, /*seed=*/3);
    opt = make_optimizer("sgd", net.parameters(), lr, ctx);
    TrainerOptions o;
    o.batch_size = kBatch;
    o.seed = 3;
    o.scheduler = sched;
    o.schedule_unit = unit;
    trainer = std::make_unique<Trainer>(net, *opt, ctx, train_set(), test_set(), o);
  }
  std::vector<EpochMetrics> epochs(int64_t n) {
    std::vector<EpochMetrics> out;
    for (int64_t e = 1; e <= n; ++e) out.push_back(trainer->train_epoch(e));
    return out;
  }
};

void expect_same_metrics(const std::vector<EpochMetrics>& a, const std::vector<EpochMetrics>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t e = 0; e < a.size(); ++e) {
    EXPECT_EQ(a[e].train_loss, b[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a[e].train_acc, b[e].train_acc) << "epoch " << e + 1;
    EXPECT_EQ(a[e].test_loss, b[e].test_loss) << "epoch " << e + 1;
    EXPECT_EQ(a[e].test_acc, b[e].test_acc) << "epoch " << e + 1;
    EXPECT_EQ(a[e].lr, b[e].lr) << "epoch " << e + 1;
  }
}

TEST(ScheduleTraining, PerEpochEpochEUsesLrOfEMinusOne) {
  for (const char* spec : {"multifactor:milestones=1;3,alpha=0.5", "step:step_size=2,gamma=0.1"}) {
    const auto sched = make_scheduler(spec, 0.2);
    Training run(0.2, sched.get());
    const std::vector<EpochMetrics> m = run.epochs(4);
    for (int64_t e = 1; e <= 4; ++e) {
      EXPECT_DOUBLE_EQ(m[e - 1].lr, sched->lr(e - 1)) << spec << " epoch " << e;
      EXPECT_EQ(m[e - 1].epoch, e);
    }
  }
  // Spelled out for multifactor: 0.2, 0.1 (t = 1 reached the first milestone), 0.1, 0.05.
  const auto mf = make_scheduler("multifactor:milestones=1;3,alpha=0.5", 0.2);
  Training run(0.2, mf.get());
  const std::vector<EpochMetrics> m = run.epochs(4);
  EXPECT_DOUBLE_EQ(m[0].lr, 0.2);
  EXPECT_DOUBLE_EQ(m[1].lr, 0.1);
  EXPECT_DOUBLE_EQ(m[2].lr, 0.1);
  EXPECT_DOUBLE_EQ(m[3].lr, 0.05);
}

TEST(ScheduleTraining, PerEpochScheduleTrainsLikeSettingTheRateByHand) {
  const auto sched = make_scheduler("multifactor:milestones=1;2,alpha=0.5", 0.2);
  Training scheduled(0.2, sched.get());
  const std::vector<EpochMetrics> a = scheduled.epochs(3);
  Training by_hand(0.2, nullptr);
  std::vector<EpochMetrics> b;
  for (int64_t e = 1; e <= 3; ++e) {
    by_hand.opt->set_lr(0.2 * (e >= 2 ? 0.5 : 1.0) * (e >= 3 ? 0.5 : 1.0));
    b.push_back(by_hand.trainer->train_epoch(e));
  }
  expect_same_metrics(a, b);
  // And it does differ from the constant rate.
  Training constant(0.2, nullptr);
  const std::vector<EpochMetrics> c = constant.epochs(3);
  EXPECT_NE(a[2].train_loss, c[2].train_loss);
}

TEST(ScheduleTraining, PerStepLastUpdateOfAnEpochUsesLrOfItsUpdateCount) {
  const auto sched = make_scheduler("step:step_size=1,gamma=0.5", 0.4);
  Training run(0.4, sched.get(), ScheduleUnit::Step);
  const std::vector<EpochMetrics> m = run.epochs(2);
  EXPECT_DOUBLE_EQ(m[0].lr, sched->lr(kBatchesPerEpoch - 1));
  EXPECT_DOUBLE_EQ(m[0].lr, 0.4 * 0.25);
  EXPECT_DOUBLE_EQ(m[1].lr, sched->lr(2 * kBatchesPerEpoch - 1));
  EXPECT_DOUBLE_EQ(m[1].lr, 0.4 / 32);
  EXPECT_EQ(run.opt->steps(), 2 * kBatchesPerEpoch);
}

TEST(ScheduleTraining, PerStepRateReachingZeroFreezesTheModel) {
  // poly with T = 3 updates: 0.3, 0.2, 0.1, then 0 from update 3 on, i.e. for all of epoch 2.
  const auto sched = make_scheduler("poly:max_update=3,p=1", 0.3);
  Training run(0.3, sched.get(), ScheduleUnit::Step);
  const std::vector<EpochMetrics> m = run.epochs(2);
  EXPECT_DOUBLE_EQ(m[0].lr, 0.1);
  EXPECT_EQ(m[1].lr, 0.0);
  EXPECT_EQ(m[1].test_loss, m[0].test_loss);  // nothing moved in epoch 2
  EXPECT_EQ(m[1].test_acc, m[0].test_acc);
  // Per epoch the same schedule keeps training in epoch 2 (lr(1) = 0.2).
  const auto per_epoch = make_scheduler("poly:max_update=3,p=1", 0.3);
  Training other(0.3, per_epoch.get(), ScheduleUnit::Epoch);
  const std::vector<EpochMetrics> n = other.epochs(2);
  EXPECT_DOUBLE_EQ(n[1].lr, 0.2);
  EXPECT_NE(n[1].test_loss, n[0].test_loss);
}

TEST(ScheduleTraining, ConstantSchedulerMatchesNoSchedulerExactly) {
  Training plain(0.15, nullptr);
  const std::vector<EpochMetrics> base = plain.epochs(2);
  for (ScheduleUnit unit : {ScheduleUnit::Epoch, ScheduleUnit::Step}) {
    const auto sched = make_scheduler("constant", 0.15);
    Training run(0.15, sched.get(), unit);
    expect_same_metrics(run.epochs(2), base);
  }
}

TEST(ScheduleTraining, PlateauObservesTheTestLossOncePerEpoch) {
  // threshold 1: no loss >= 0 counts as an improvement, so with patience 0 every epoch after
  // the first halves the rate: epochs use 0.2, 0.2, 0.1, 0.05.
  const auto sched = make_scheduler("plateau:factor=0.5,patience=0,threshold=1", 0.2);
  Training run(0.2, sched.get());
  const std::vector<EpochMetrics> m = run.epochs(4);
  EXPECT_DOUBLE_EQ(m[0].lr, 0.2);
  EXPECT_DOUBLE_EQ(m[1].lr, 0.2);
  EXPECT_DOUBLE_EQ(m[2].lr, 0.1);
  EXPECT_DOUBLE_EQ(m[3].lr, 0.05);
  EXPECT_DOUBLE_EQ(sched->state().at("best"), m[0].test_loss);
}

TEST(ScheduleTraining, WarmUpPerStepRampsFromTheBeginLr) {
  const auto sched = make_scheduler("constant:warmup=4,warmup_begin_lr=0", 0.2);
  Training run(0.2, sched.get(), ScheduleUnit::Step);
  const std::vector<EpochMetrics> m = run.epochs(2);
  EXPECT_DOUBLE_EQ(m[0].lr, 0.2 * 2 / 4);  // update 2
  EXPECT_DOUBLE_EQ(m[1].lr, 0.2);          // update 5
}

}  // namespace
}  // namespace cutrain
