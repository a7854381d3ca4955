#include "cutrain/models/softmax_cross_entropy.h"

#include "cutrain/error.h"
#include "softmax_ce.h"

namespace cutrain {

void SoftmaxCrossEntropy::build(int64_t max_batch, Device device) {
  scratch_ = Tensor(Shape{2 * max_batch}, device);
}

void SoftmaxCrossEntropy::forward(const Tensor& logits, const Tensor& labels, Tensor* dlogits,
                                  float* sums, Context& ctx) {
  const int64_t n = logits.dim(0);
  const int classes = static_cast<int>(logits.dim(1));
  if (labels.numel() != n || 2 * n > scratch_.numel() ||
      (dlogits && dlogits->numel() != logits.numel()))
    throw ConfigError("softmax cross-entropy: logits " + to_string(logits.shape()) +
                      ", labels " + to_string(labels.shape()) + " do not match the built batch");
  const float scale = 1.0f / static_cast<float>(n);
  float* dz = dlogits ? dlogits->data() : nullptr;
  if (ctx.is_cuda())
    kernels::launch_softmax_ce(logits.data(), labels.data(), n, classes, scale, dz,
                               scratch_.data(), sums, ctx.stream());
  else
    kernels::softmax_ce_cpu(logits.data(), labels.data(), n, classes, scale, dz, scratch_.data(),
                            sums);
}

}  // namespace cutrain
