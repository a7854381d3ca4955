// BatchPipeline: the static buffers between a BatchLoader and a model: the staged input batch
// (train/input_stage.h: pinned staging + copy stream, or the whole dataset on the device), the
// loss, and one (loss sum, hits) slot per batch of a pass, read by the host once at the end of
// the pass. With CUDA graphs the per-batch work (forward + loss + backward + optimizer step) is
// replayed from a graph per batch size (train/step_graphs.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/data/loader.h"
#include "cutrain/models/sequential.h"
#include "cutrain/models/softmax_cross_entropy.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain {

namespace detail {
class InputStage;
class StepGraphs;
}  // namespace detail

struct PipelineOptions {
  /// Resize every staged batch bilinearly to resize x resize on the device (0 = off); the
  /// model must be built for that size.
  int64_t resize = 0;
  /// Capture the per-batch work in CUDA graphs and replay them (CUDA only).
  bool cuda_graph = false;
  /// Keep the datasets on the device and shuffle and gather batches there (CUDA only).
  bool data_on_device = false;
};

struct EvalResult {
  double loss = 0.0, accuracy = 0.0;
  int64_t examples = 0;
};

/// Raw sums over a range of metric slots.
struct SlotSums {
  double loss = 0.0, hits = 0.0;
  int64_t first_nonfinite = -1;  ///< first slot whose loss is NaN or infinite, or -1
};

class BatchPipeline {
 public:
  /// `model` must be built on ctx's device; buffers hold model.max_batch() examples of
  /// `sample_shape` and `max_batches` metric slots.
  /// @throws ConfigError for CUDA-only options on the CPU
  BatchPipeline(Sequential& model, Context& ctx, const Shape& sample_shape, int64_t max_batches,
                const PipelineOptions& options = {});
  ~BatchPipeline();

  /// Queues batch b of `loader` into the input buffers; returns its size n.
  int64_t stage(const data::BatchLoader& loader, int64_t b);
  /// One training update on the staged batch of n examples: forward, loss into metric slot
  /// `slot`, backward, optimizer step (the optimizer's host half runs first, outside any graph).
  /// With cuda_graph, a step is captured per batch size and per combination of the layers'
  /// training modes; another optimizer than the last one's (Optimizer::serial) recaptures all.
  void train_step(int64_t slot, int64_t n, Optimizer& optimizer);
  /// Forward and loss of the staged batch into metric slot `slot` (no gradients).
  void eval_step(int64_t slot, int64_t n);
  /// Mean loss and accuracy over slots [0, batches) (one host synchronisation).
  EvalResult totals(int64_t batches, int64_t examples) const;
  /// `start` plus the slots [begin, end), added in order (one host synchronisation); a sum
  /// continued across calls is bit-identical to one over the whole range.
  SlotSums sums(int64_t begin, int64_t end, SlotSums start = {}) const;
  /// Evaluation mode, every batch of `data`, in order.
  EvalResult evaluate(const data::ImageDataset& data);
  /// Evaluation mode: the predicted class of every example of `data`, in order (the first
  /// largest logit, as the accuracy counts it). Eager, and the host reads every batch's logits:
  /// for analysis, not for training loops.
  std::vector<int32_t> predict(const data::ImageDataset& data);
  /// "Precise BN": replaces every batch norm's running statistics by the average of its batch
  /// statistics over the full batches of `data` (in order, training-mode forwards, weights
  /// unchanged), then leaves the model in evaluation mode. The running averages a run keeps
  /// (momentum 0.1) lag weights that move fast; these are the statistics of the final weights.
  /// Eager even with cuda_graph (the averaging weight changes per batch). `limit`: only the
  /// first examples of `data` (0 = all). Returns the examples used; ConfigError when there is
  /// less than one full batch.
  int64_t recompute_batchnorm_statistics(const data::ImageDataset& data, int64_t limit = 0);
  int64_t slots() const { return sums_.dim(0); }
  /// Graphs captured and replayed so far (0 without cuda_graph).
  int64_t graph_captures() const;
  int64_t graph_replays() const;
  /// Batch shapes whose capture failed and that run eagerly (reported on stderr).
  int64_t graph_failed_captures() const;
  /// Nodes of the largest captured graph (usually the full-batch training step): the kernels,
  /// memsets and copies one replay launches. 0 before a capture.
  int64_t graph_max_nodes() const;

 private:
  // Resize (when on) and forward of the staged batch of n; the logits.
  const Tensor& enqueue_forward(int64_t n);
  // Forward + loss; its (loss sum, hits) pair goes to `sums` (2 floats of device memory).
  void enqueue_forward_loss(float* sums, int64_t n, bool with_grad);
  // Runs `work` (eagerly or as a graph of key (layer modes, n, with_grad)) and lands its
  // metrics in `slot`.
  void run_batch(int64_t slot, int64_t n, bool with_grad, const std::function<void(float*)>& work);
  // A small number for the current combination of the layers' training modes (a graph bakes
  // in whether batch norm uses batch or running statistics).
  int64_t layer_modes_id();

  Sequential& model_;
  Context& ctx_;
  SoftmaxCrossEntropy loss_;
  Tensor images_, labels_, sums_;
  Tensor step_sums_;  // graph mode: the fixed pair a graph writes, copied into the batch's slot
  std::map<std::vector<bool>, int64_t> layer_modes_ids_;
  std::vector<bool> layer_modes_;  // scratch for layer_modes_id
  uint64_t graph_optimizer_ = 0;   // serial of the optimizer the training graphs update
  std::unique_ptr<Layer> resize_;  // BilinearResize when resizing, else null
  Tensor resized_;                 // its output, the model's input
  std::unique_ptr<detail::InputStage> input_;
  std::unique_ptr<detail::StepGraphs> graphs_;
};

/// Test loss and accuracy of a built model over a whole dataset (batches of model.max_batch()).
EvalResult evaluate_model(Sequential& model, const data::ImageDataset& data, Context& ctx,
                          const PipelineOptions& options = {});

}  // namespace cutrain
