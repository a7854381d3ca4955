#include "cutrain/train/trainer.h"

#include <algorithm>
#include <chrono>

#include "cutrain/error.h"

namespace cutrain {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Shape sample_shape(const data::ImageDataset& d) { return {d.channels, d.height, d.width}; }

int64_t max_batches(const data::BatchLoader& train, const data::ImageDataset& test, int64_t b) {
  return std::max(train.batches(), (test.count + b - 1) / b);
}
}  // namespace

Trainer::Trainer(Sequential& model, Optimizer& optimizer, Context& ctx,
                 const data::ImageDataset& train, const data::ImageDataset& test,
                 TrainerOptions options)
    : model_(model),
      optimizer_(optimizer),
      ctx_(ctx),
      test_(test),
      options_(std::move(options)),
      train_loader_(train, options_.batch_size, /*shuffle=*/true, options_.seed,
                    options_.train_limit),
      pipeline_(model, ctx, sample_shape(train),
                max_batches(train_loader_, test, options_.batch_size)) {
  if (model.max_batch() != options_.batch_size)
    throw ConfigError("Trainer: the model must be built for batch " +
                      std::to_string(options_.batch_size) + ", not " +
                      std::to_string(model.max_batch()));
  if (sample_shape(train) != sample_shape(test))
    throw ConfigError("train and test images differ in shape: " + to_string(sample_shape(train)) +
                      " vs " + to_string(sample_shape(test)));
}

Trainer::~Trainer() = default;

EpochMetrics Trainer::train_epoch(int64_t epoch) {
  const auto start = std::chrono::steady_clock::now();
  model_.set_training(true);
  train_loader_.start_epoch(epoch - 1);
  const int64_t batches = train_loader_.batches();
  Scheduler* sched = options_.scheduler;
  const bool per_step = options_.schedule_unit == ScheduleUnit::Step;
  if (sched && !per_step) optimizer_.set_lr(sched->lr(epoch - 1));
  for (int64_t b = 0; b < batches; ++b) {
    if (sched && per_step) optimizer_.set_lr(sched->lr(optimizer_.steps()));
    pipeline_.forward_loss(b, pipeline_.stage(train_loader_, b), /*with_grad=*/true);
    model_.backward(ctx_);
    optimizer_.step(ctx_);
    if (options_.on_batch) options_.on_batch(b + 1, batches);
  }
  const EvalResult train = pipeline_.totals(batches, train_loader_.size());
  const double train_seconds = seconds_since(start);

  const EvalResult test = evaluate(test_);
  if (sched) sched->observe(test.loss);
  EpochMetrics m;
  m.epoch = epoch;
  m.train_loss = train.loss;
  m.train_acc = train.accuracy;
  m.test_loss = test.loss;
  m.test_acc = test.accuracy;
  m.examples = train.examples;
  m.examples_per_sec = static_cast<double>(train.examples) / train_seconds;
  m.seconds = seconds_since(start);
  m.lr = optimizer_.lr();  // the rate of the epoch's last update
  return m;
}

}  // namespace cutrain
