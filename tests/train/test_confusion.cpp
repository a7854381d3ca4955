// ConfusionMatrix by hand, and BatchPipeline::predict against the accuracy evaluate() counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/error.h"
#include "cutrain/models/registry.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/train/batch_pipeline.h"
#include "cutrain/train/confusion.h"
#include "cutrain/train/trainer.h"
#include "support/synthetic_data.h"

namespace cutrain {
namespace {

TEST(ConfusionMatrix, CountsPairsByHand) {
  // truth:      0  0  0  1  1  2  2  2  2
  // predicted:  0  1  1  1  1  0  2  1  0
  const ConfusionMatrix m({0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 1, 1, 1, 1, 0, 2, 1, 0}, 4);
  EXPECT_EQ(m.classes(), 4);
  EXPECT_EQ(m.count(0, 0), 1);
  EXPECT_EQ(m.count(0, 1), 2);
  EXPECT_EQ(m.count(1, 1), 2);
  EXPECT_EQ(m.count(2, 0), 2);
  EXPECT_EQ(m.count(2, 1), 1);
  EXPECT_EQ(m.count(2, 2), 1);
  EXPECT_EQ(m.count(1, 0), 0);
  EXPECT_EQ(m.examples_of(0), 3);
  EXPECT_EQ(m.examples_of(2), 4);
  EXPECT_EQ(m.examples_of(3), 0);
  EXPECT_DOUBLE_EQ(m.accuracy(), 4.0 / 9.0);
  EXPECT_DOUBLE_EQ(m.accuracy_of(0), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.accuracy_of(1), 1.0);
  EXPECT_DOUBLE_EQ(m.accuracy_of(2), 0.25);
  EXPECT_TRUE(std::isnan(m.accuracy_of(3)));  // no examples
  EXPECT_EQ(m.most_confused_with(0), 1);
  EXPECT_EQ(m.most_confused_with(1), -1);  // never wrong
  EXPECT_EQ(m.most_confused_with(2), 0);   // 0 twice, 1 once
  EXPECT_EQ(m.most_confused_with(3), -1);
}

TEST(ConfusionMatrix, TiesGoToTheLowerClass) {
  const ConfusionMatrix m({1, 1, 1, 1}, {3, 2, 3, 2}, 4);
  EXPECT_EQ(m.most_confused_with(1), 2);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.0);
}

TEST(ConfusionMatrix, RejectsMismatchedOrOutOfRangeInput) {
  EXPECT_THROW(ConfusionMatrix({0, 1}, {0}, 2), ConfigError);
  EXPECT_THROW(ConfusionMatrix({0, 2}, {0, 1}, 2), ConfigError);   // label 2 of 2 classes
  EXPECT_THROW(ConfusionMatrix({0, 1}, {0, -1}, 2), ConfigError);  // prediction -1
  EXPECT_THROW(ConfusionMatrix({0, 1}, {0, 5}, 2), ConfigError);
  EXPECT_THROW(ConfusionMatrix({}, {}, 0), ConfigError);
  const ConfusionMatrix m({0}, {0}, 2);
  EXPECT_THROW(m.count(2, 0), ConfigError);
  EXPECT_TRUE(std::isnan(ConfusionMatrix({}, {}, 3).accuracy()));
}

// The predictions are those the loss counts as hits, in the data set's order: after a little
// training (so that the net predicts many classes, mostly right, and a mix-up of examples would
// cost accuracy) their confusion matrix has evaluate()'s accuracy exactly, in batches with a
// partial last one, with and without the resize stage.
TEST(Predict, AgreesWithTheAccuracyEvaluateCounts) {
  Context ctx(Device::CPU);
  const data::ImageDataset train = test::separable_images(200, 4),
                           test = test::separable_images(70, 3);
  for (const int64_t resize : {int64_t{0}, int64_t{28}}) {
    SCOPED_TRACE("resize " + std::to_string(resize));
    Sequential net = make_model("lenet");
    net.build({1, 28, 28}, 32, Device::CPU, 5);
    auto opt = make_optimizer("adam", net.parameters(), 0.01, ctx);
    TrainerOptions o;
    o.batch_size = 32;
    o.resize = resize;
    Trainer trainer(net, *opt, ctx, train, test, o);
    for (int64_t e = 1; e <= 3; ++e) trainer.train_epoch(e);
    PipelineOptions options;
    options.resize = resize;
    BatchPipeline pipeline(net, ctx, {1, 28, 28}, 3, options);
    const EvalResult r = pipeline.evaluate(test);
    const std::vector<int32_t> predicted = pipeline.predict(test);
    ASSERT_EQ(predicted.size(), static_cast<size_t>(test.count));
    const ConfusionMatrix m(test.labels, predicted, test.num_classes);
    EXPECT_DOUBLE_EQ(m.accuracy(), r.accuracy);
    EXPECT_GT(r.accuracy, 0.5);
    int classes_predicted = 0;
    for (int c = 0; c < m.classes(); ++c) {
      int64_t as_c = 0;
      for (int t = 0; t < m.classes(); ++t) as_c += m.count(t, c);
      classes_predicted += as_c > 0 ? 1 : 0;
    }
    EXPECT_GE(classes_predicted, 6);
  }
}

}  // namespace
}  // namespace cutrain
