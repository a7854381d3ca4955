// End to end on the CPU: the trainer learns separable data, and a seed fixes every metric.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"
#include "support/temp_dir.h"

namespace cutrain {
namespace {

struct TrainRun {
  EvalResult before;  // test set before any step
  std::vector<EpochMetrics> epochs;
};

TrainerOptions options(int64_t batch, uint64_t seed, int64_t train_limit) {
  TrainerOptions o;
  o.batch_size = batch;
  o.seed = seed;
  o.train_limit = train_limit;
  return o;
}

TrainRun train(const std::string& model, uint64_t seed, int64_t epochs, double lr,
          int64_t train_limit = 0) {
  static const data::ImageDataset train_set = test::separable_images(640, 1);
  static const data::ImageDataset test_set = test::separable_images(200, 2);
  Context ctx(Device::CPU);
  Sequential net = make_model(model);
  net.build({1, 28, 28}, 32, Device::CPU, seed);
  auto opt = make_optimizer("sgd", net.parameters(), lr, ctx);
  Trainer trainer(net, *opt, ctx, train_set, test_set, options(32, seed, train_limit));
  TrainRun run;
  run.before = trainer.evaluate(test_set);
  for (int64_t e = 1; e <= epochs; ++e) run.epochs.push_back(trainer.train_epoch(e));
  return run;
}

TEST(Trainer, LearnsSeparableData) {
  const TrainRun run = train("lenet", 0, 4, 0.1);
  ASSERT_EQ(run.epochs.size(), 4u);
  EXPECT_NEAR(run.before.loss, std::log(10.0), 0.3);  // an untrained net guesses
  EXPECT_LT(run.before.accuracy, 0.3);
  EXPECT_LT(run.epochs[0].train_loss, run.before.loss);
  EXPECT_LT(run.epochs.back().train_loss, 0.5 * run.epochs[0].train_loss);
  EXPECT_GT(run.epochs.back().test_acc, 0.9);
  EXPECT_EQ(run.epochs.back().examples, 640);
  EXPECT_DOUBLE_EQ(run.epochs.back().lr, 0.1);
  EXPECT_GT(run.epochs.back().examples_per_sec, 0.0);
}

TEST(Trainer, SameSeedSameMetrics) {
  const TrainRun a = train("lenet", 7, 2, 0.1), b = train("lenet", 7, 2, 0.1);
  for (size_t e = 0; e < a.epochs.size(); ++e) {
    EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss) << "epoch " << e + 1;
    EXPECT_EQ(a.epochs[e].train_acc, b.epochs[e].train_acc);
    EXPECT_EQ(a.epochs[e].test_loss, b.epochs[e].test_loss);
    EXPECT_EQ(a.epochs[e].test_acc, b.epochs[e].test_acc);
  }
}

TEST(Trainer, OtherSeedOtherMetrics) {
  const TrainRun a = train("lenet", 7, 1, 0.1), b = train("lenet", 8, 1, 0.1);
  EXPECT_NE(a.epochs[0].train_loss, b.epochs[0].train_loss);
}

TEST(Trainer, PartialLastBatchIsTrainedOnUnlessDropLast) {
  // 100 examples at batch 32: three full batches and one of 4; with drop_last the same first
  // three batches (the order depends on seed and epoch only) and no fourth.
  static const data::ImageDataset train_set = test::separable_images(100, 1);
  for (const char* model : {"lenet-classic", "lenet-bn"}) {
    SCOPED_TRACE(model);
    std::vector<float> final_weights[2];
    for (const bool drop_last : {false, true}) {
      Context ctx(Device::CPU);
      Sequential net = make_model(model);
      net.build({1, 28, 28}, 32, Device::CPU, 0);
      auto opt = make_optimizer("sgd", net.parameters(), 0.5, ctx);
      TrainerOptions o = options(32, 0, 0);
      o.drop_last = drop_last;
      Trainer trainer(net, *opt, ctx, train_set, train_set, o);
      const EpochMetrics m = trainer.train_epoch(1);
      EXPECT_EQ(m.examples, drop_last ? 96 : 100);
      EXPECT_EQ(opt->steps(), drop_last ? 3 : 4) << "updates";
      EXPECT_TRUE(std::isfinite(m.train_loss));
      for (const Parameter& p : net.parameters()) {
        const std::vector<float> v = p.value->to_vector();
        final_weights[drop_last].insert(final_weights[drop_last].end(), v.begin(), v.end());
      }
    }
    EXPECT_NE(final_weights[0], final_weights[1]) << "the batch of 4 changed nothing";
  }
}

// A LeNet built for batch 16 on the CPU, with its optimizer, over ten examples.
struct TinySetup {
  data::ImageDataset d = test::separable_images(10, 1);
  Context ctx{Device::CPU};
  Sequential net = make_model("lenet");
  std::unique_ptr<Optimizer> opt;
  TinySetup() {
    net.build({1, 28, 28}, 16, Device::CPU, 0);
    opt = make_optimizer("sgd", net.parameters(), 0.1, ctx);
  }
  std::string config_error(const TrainerOptions& o) {
    return test::config_error_message([&] { Trainer(net, *opt, ctx, d, d, o); });
  }
};

TEST(Trainer, RejectsAModelBuiltForAnotherBatch) {
  TinySetup t;
  EXPECT_TRUE(test::Contains(t.config_error(options(32, 0, 0)), "batch"));
}

// CUDA graphs and device-resident data are CUDA features: asking for them on the CPU is a
// configuration error naming the flag, not a silent fallback.
TEST(Trainer, CudaOnlyPipelineOptionsAreRejectedOnTheCpu) {
  TinySetup t;
  TrainerOptions graph = options(16, 0, 0);
  graph.cuda_graph = true;
  EXPECT_TRUE(test::Contains(t.config_error(graph), "--cuda-graph"));
  TrainerOptions resident = options(16, 0, 0);
  resident.data_on_device = true;
  EXPECT_TRUE(test::Contains(t.config_error(resident), "--data-on-device"));
}

}  // namespace
}  // namespace cutrain
