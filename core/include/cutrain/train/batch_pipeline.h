// BatchPipeline: the static buffers between a BatchLoader and a model: the staged input batch
// (host staging + device copy on the compute stream), the loss, and one (loss sum, hits) slot
// per batch of a pass, read by the host once at the end of the pass.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "cutrain/context.h"
#include "cutrain/data/loader.h"
#include "cutrain/models/sequential.h"
#include "cutrain/models/softmax_cross_entropy.h"

namespace cutrain {

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
  /// `sample_shape` and `max_batches` metric slots. With `resize` > 0 every staged batch is
  /// resized bilinearly to resize x resize on ctx's device before the model (which must be
  /// built for that size).
  BatchPipeline(Sequential& model, Context& ctx, const Shape& sample_shape, int64_t max_batches,
                int64_t resize = 0);

  /// Copies batch b of `loader` into the input buffers; returns its size n.
  int64_t stage(const data::BatchLoader& loader, int64_t b);
  /// Forward and loss of the staged batch into metric slot `slot`; with `with_grad` the loss
  /// gradient lands in model.output_grad() for a following backward.
  void forward_loss(int64_t slot, int64_t n, bool with_grad);
  /// Mean loss and accuracy over slots [0, batches) (one host synchronisation).
  EvalResult totals(int64_t batches, int64_t examples) const;
  /// `start` plus the slots [begin, end), added in order (one host synchronisation); a sum
  /// continued across calls is bit-identical to one over the whole range.
  SlotSums sums(int64_t begin, int64_t end, SlotSums start = {}) const;
  /// Evaluation mode, every batch of `data`, in order.
  EvalResult evaluate(const data::ImageDataset& data);
  int64_t slots() const { return sums_.dim(0); }

 private:
  Sequential& model_;
  Context& ctx_;
  SoftmaxCrossEntropy loss_;
  std::vector<float> host_images_, host_labels_;
  Tensor images_, labels_, sums_;
  std::unique_ptr<Layer> resize_;  // BilinearResize when resizing, else null
  Tensor resized_;                 // its output, the model's input
};

/// Test loss and accuracy of a built model over a whole dataset (batches of model.max_batch()),
/// each batch resized to resize x resize first when `resize` > 0.
EvalResult evaluate_model(Sequential& model, const data::ImageDataset& data, Context& ctx,
                          int64_t resize = 0);

}  // namespace cutrain
