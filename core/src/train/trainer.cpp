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

PipelineOptions pipeline_options(const TrainerOptions& o) {
  PipelineOptions p;
  p.resize = o.resize;
  p.cuda_graph = o.cuda_graph;
  p.data_on_device = o.data_on_device;
  return p;
}

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
                    options_.train_limit, options_.drop_last),
      pipeline_(model, ctx, sample_shape(train),
                max_batches(train_loader_, test, options_.batch_size),
                pipeline_options(options_)) {
  if (model.max_batch() != options_.batch_size)
    throw ConfigError("Trainer: the model must be built for batch " +
                      std::to_string(options_.batch_size) + ", not " +
                      std::to_string(model.max_batch()));
  if (options_.precise_bn && train_loader_.size() < options_.batch_size)
    throw ConfigError("--precise-bn: " + std::to_string(train_loader_.size()) +
                      " training examples, less than one batch of " +
                      std::to_string(options_.batch_size) + " to compute statistics from");
  if (sample_shape(train) != sample_shape(test))
    throw ConfigError("train and test images differ in shape: " + to_string(sample_shape(train)) +
                      " vs " + to_string(sample_shape(test)));
}

Trainer::~Trainer() = default;

EpochMetrics Trainer::continue_epoch(const EpochCursor& from) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t epoch = from.epoch;
  model_.set_training(true);
  train_loader_.start_epoch(epoch - 1);
  const int64_t batches = train_loader_.batches();
  if (from.batches_done < 0 || from.batches_done > batches)
    throw ConfigError("resume: " + std::to_string(from.batches_done) + " batches done of " +
                      std::to_string(batches) + " in epoch " + std::to_string(epoch));
  Scheduler* sched = options_.scheduler;
  const bool per_step = options_.schedule_unit == ScheduleUnit::Step;
  if (sched && !per_step) optimizer_.set_lr(sched->lr(epoch - 1));
  int64_t b = from.batches_done;
  bool interrupted = false;
  while (b < batches && !interrupted) {
    if (sched && per_step) optimizer_.set_lr(sched->lr(optimizer_.steps()));
    pipeline_.train_step(b, pipeline_.stage(train_loader_, b), optimizer_);
    ++b;
    if (options_.on_batch) options_.on_batch(b, batches);
    interrupted = options_.should_stop && options_.should_stop();
  }
  // The batches of this call: one read of their slots, a non-finite loss named by its step.
  const SlotSums part = pipeline_.sums(from.batches_done, b, {from.loss_sum, from.hits, -1});
  if (part.first_nonfinite >= 0)
    throw TrainingError("non-finite training loss in epoch " + std::to_string(epoch) +
                        " at step " + std::to_string(part.first_nonfinite + 1) + " of " +
                        std::to_string(batches) + " (update " +
                        std::to_string(optimizer_.steps() - (b - part.first_nonfinite) + 1) +
                        " of the run); stopped without saving this epoch: the last checkpoint "
                        "is the last good one. Try a smaller --lr or --clip-norm");
  EpochMetrics m;
  m.epoch = epoch;
  m.lr = optimizer_.lr();  // the rate of the epoch's last update
  m.cursor = {epoch, b, part.loss, part.hits};
  const int64_t examples = b == batches ? train_loader_.epoch_examples() : b * options_.batch_size;
  m.examples = examples - from.batches_done * options_.batch_size;
  m.train_loss = m.cursor.loss_sum / static_cast<double>(examples);
  m.train_acc = m.cursor.hits / static_cast<double>(examples);
  m.examples_per_sec = static_cast<double>(m.examples) / seconds_since(start);
  if (interrupted && b < batches) {
    m.interrupted = true;
    m.seconds = seconds_since(start);
    return m;
  }
  if (options_.precise_bn)
    pipeline_.recompute_batchnorm_statistics(train_loader_.dataset(), options_.train_limit);
  const EvalResult test = evaluate(test_);
  if (sched) sched->observe(test.loss);
  m.test_loss = test.loss;
  m.test_acc = test.accuracy;
  m.seconds = seconds_since(start);
  return m;
}

}  // namespace cutrain
