// Trainer: the epoch loop. Per batch: stage -> forward -> fused softmax-CE (loss and hits stay
// on the device, one slot per batch) -> backward -> optimizer step (the last four as one CUDA
// graph with cuda_graph). The host reads the metrics once per epoch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "cutrain/context.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/data/loader.h"
#include "cutrain/models/sequential.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/schedule/scheduler.h"
#include "cutrain/train/batch_pipeline.h"

namespace cutrain {

/// What a scheduler's t counts.
enum class ScheduleUnit { Epoch, Step };

struct TrainerOptions {
  int64_t batch_size = 256;
  uint64_t seed = 0;
  int64_t train_limit = 0;  ///< use only the first N training examples (0 = all)
  /// Leave out each epoch's last partial training batch (e.g. so batch norm never sees a batch
  /// of one, and a CUDA graph run has one training shape).
  bool drop_last = false;
  /// Before each epoch's evaluation, replace the batch norms' running averages by the average
  /// batch statistics of the epoch's training examples under the final weights ("precise BN",
  /// BatchPipeline::recompute_batchnorm_statistics): one more forward pass over them.
  bool precise_bn = false;
  /// Resize every batch bilinearly to resize x resize on the training device (0 = off); the
  /// model must be built for that size.
  int64_t resize = 0;
  /// Replay each step from a CUDA graph captured per batch size (CUDA only); evaluation too.
  bool cuda_graph = false;
  /// Keep the datasets on the device and shuffle and gather there (CUDA only).
  bool data_on_device = false;
  /// Sets the learning rate before every epoch (t = epoch - 1) or every update (t = updates
  /// so far); observes the test loss after each epoch. Not owned; null = constant lr.
  Scheduler* scheduler = nullptr;
  ScheduleUnit schedule_unit = ScheduleUnit::Epoch;
  /// Called after every update with (updates done this epoch, updates per epoch); for progress
  /// displays. Reads nothing from the device.
  std::function<void(int64_t, int64_t)> on_batch;
  /// Asked after every update; true ends the epoch early (e.g. on SIGINT), the step completed.
  std::function<bool()> should_stop;
};

/// Where a run stands inside an epoch: enough to continue it exactly (the data order depends on
/// the seed and the epoch only).
struct EpochCursor {
  int64_t epoch = 1;         ///< 1-based epoch in progress
  int64_t batches_done = 0;  ///< updates of this epoch already applied
  double loss_sum = 0.0;     ///< summed training loss of those batches
  double hits = 0.0;         ///< correct predictions in those batches
};

struct EpochMetrics {
  int64_t epoch = 0;  ///< 1-based
  double train_loss = 0.0, train_acc = 0.0, test_loss = 0.0, test_acc = 0.0;
  double examples_per_sec = 0.0;  ///< training examples / training time (evaluation excluded)
  double seconds = 0.0;           ///< wall time of the epoch, evaluation included
  double lr = 0.0;
  int64_t examples = 0;
  /// should_stop ended the epoch early: no evaluation ran, and `cursor` says where to go on.
  bool interrupted = false;
  EpochCursor cursor;
};

class Trainer {
 public:
  /// `model` must be built for options.batch_size on ctx's device.
  Trainer(Sequential& model, Optimizer& optimizer, Context& ctx, const data::ImageDataset& train,
          const data::ImageDataset& test, TrainerOptions options);
  ~Trainer();

  /// Trains one epoch (1-based number) and evaluates on the test set.
  /// @throws TrainingError naming the epoch and step when the loss becomes NaN or infinite
  EpochMetrics train_epoch(int64_t epoch) { return continue_epoch({epoch, 0, 0.0, 0.0}); }
  /// Trains the rest of an epoch from `from` (a cursor of an interrupted run) and evaluates.
  EpochMetrics continue_epoch(const EpochCursor& from);
  /// Loss and accuracy over a whole dataset, in evaluation mode.
  EvalResult evaluate(const data::ImageDataset& data) { return pipeline_.evaluate(data); }
  const BatchPipeline& pipeline() const { return pipeline_; }

 private:
  Sequential& model_;
  Optimizer& optimizer_;
  Context& ctx_;
  const data::ImageDataset& test_;
  TrainerOptions options_;
  data::BatchLoader train_loader_;
  BatchPipeline pipeline_;
};

}  // namespace cutrain
