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

// Adds the per-batch (loss sum, hits) slots the device wrote during a pass.
EvalResult total(const Tensor& sums, int64_t batches, int64_t examples, cudaStream_t stream) {
  const std::vector<float> host = sums.to_vector(stream);
  double loss = 0.0, hits = 0.0;
  for (int64_t b = 0; b < batches; ++b) {
    loss += host[static_cast<size_t>(2 * b)];
    hits += host[static_cast<size_t>(2 * b + 1)];
  }
  return {loss / static_cast<double>(examples), hits / static_cast<double>(examples), examples};
}
}  // namespace

Trainer::Trainer(Sequential& model, Optimizer& optimizer, Context& ctx,
                 const data::ImageDataset& train, const data::ImageDataset& test,
                 TrainerOptions options)
    : model_(model),
      optimizer_(optimizer),
      ctx_(ctx),
      test_(test),
      options_(options),
      train_loader_(train, options.batch_size, /*shuffle=*/true, options.seed,
                    options.train_limit) {
  if (!model.built() || model.max_batch() != options.batch_size || model.device() != ctx.device())
    throw ConfigError("Trainer: the model must be built for batch " +
                      std::to_string(options.batch_size) + " on " + device_name(ctx.device()));
  if (sample_shape(train) != sample_shape(test))
    throw ConfigError("train and test images differ in shape: " + to_string(sample_shape(train)) +
                      " vs " + to_string(sample_shape(test)));
  const int64_t pixels = train.image_size();
  const int64_t b = options.batch_size;
  host_images_.resize(static_cast<size_t>(b * pixels));
  host_labels_.resize(static_cast<size_t>(b));
  Shape x_shape{b};
  const Shape s = sample_shape(train);
  x_shape.insert(x_shape.end(), s.begin(), s.end());
  images_ = Tensor(x_shape, ctx.device());
  labels_ = Tensor(Shape{b}, ctx.device());
  const int64_t test_batches = (test.count + b - 1) / b;
  sums_ = Tensor::zeros(Shape{std::max(train_loader_.batches(), test_batches), 2}, ctx.device());
  loss_.build(b, ctx.device());
}

Trainer::~Trainer() = default;

int64_t Trainer::stage_batch(const data::BatchLoader& loader, int64_t b) {
  if (!ctx_.is_cuda()) return loader.fill(b, images_.data(), labels_.data());
  const int64_t n = loader.fill(b, host_images_.data(), host_labels_.data());
  images_.copy_from_host(host_images_.data(), n * loader.dataset().image_size(), ctx_.stream());
  labels_.copy_from_host(host_labels_.data(), n, ctx_.stream());
  return n;
}

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
    const int64_t n = stage_batch(train_loader_, b);
    const Tensor& logits = model_.forward(images_.narrow_batch(n), ctx_);
    loss_.forward(logits, labels_.narrow_batch(n), &model_.output_grad(), sums_.data() + 2 * b,
                  ctx_);
    model_.backward(ctx_);
    optimizer_.step(ctx_);
  }
  const EvalResult train = total(sums_, batches, train_loader_.size(), ctx_.stream());
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

EvalResult Trainer::evaluate(const data::ImageDataset& data) {
  model_.set_training(false);
  data::BatchLoader loader(data, options_.batch_size, /*shuffle=*/false, 0);
  loader.start_epoch(0);
  if (loader.batches() > sums_.dim(0))
    throw ConfigError("evaluate: dataset larger than the one the trainer was built for");
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const int64_t n = stage_batch(loader, b);
    const Tensor& logits = model_.forward(images_.narrow_batch(n), ctx_);
    loss_.forward(logits, labels_.narrow_batch(n), nullptr, sums_.data() + 2 * b, ctx_);
  }
  return total(sums_, loader.batches(), loader.size(), ctx_.stream());
}

}  // namespace cutrain
