// Fused softmax + cross-entropy loss (mean over the batch), numerically stable.
#pragma once

#include "cutrain/context.h"
#include "cutrain/tensor.h"

namespace cutrain {

class SoftmaxCrossEntropy {
 public:
  /// Allocates the per-row scratch for batches of up to `max_batch`.
  void build(int64_t max_batch, Device device);
  /// logits [n, C]; labels [n] holding class indices as floats. Writes, when `dlogits` is
  /// non-null, the gradient of the mean loss, and into `sums` (2 floats on the logits' device)
  /// the batch's summed loss and number of correct predictions. No host synchronisation.
  void forward(const Tensor& logits, const Tensor& labels, Tensor* dlogits, float* sums,
               Context& ctx);

 private:
  Tensor scratch_;
};

}  // namespace cutrain
