#include "cutrain/train/batch_pipeline.h"

#include <cmath>

#include "cutrain/error.h"
#include "nvtx_range.h"
#include "cutrain/models/bilinear_resize.h"

namespace cutrain {

BatchPipeline::BatchPipeline(Sequential& model, Context& ctx, const Shape& sample_shape,
                             int64_t max_batches, int64_t resize)
    : model_(model), ctx_(ctx) {
  if (!model.built() || model.device() != ctx.device())
    throw ConfigError(std::string("BatchPipeline: the model must be built on ") +
                      device_name(ctx.device()));
  const int64_t b = model.max_batch();
  Shape x_shape{b};
  x_shape.insert(x_shape.end(), sample_shape.begin(), sample_shape.end());
  images_ = Tensor(x_shape, ctx.device());
  labels_ = Tensor(Shape{b}, ctx.device());
  sums_ = Tensor::zeros(Shape{std::max<int64_t>(max_batches, 1), 2}, ctx.device());
  if (ctx.is_cuda()) {
    host_images_.resize(static_cast<size_t>(images_.numel()));
    host_labels_.resize(static_cast<size_t>(b));
  }
  loss_.build(b, ctx.device());
  if (resize < 0)
    throw ConfigError("--resize must be >= 0 (0: off), got " + std::to_string(resize));
  if (resize > 0) {
    if (x_shape.size() != 4)
      throw ConfigError("--resize needs image samples [C, H, W], got " + to_string(sample_shape));
    resize_ = std::make_unique<BilinearResize>(resize, resize);
    Rng unused(0);
    resized_ = Tensor(resize_->build(x_shape, ctx.device(), unused), ctx.device());
  }
}

int64_t BatchPipeline::stage(const data::BatchLoader& loader, int64_t b) {
  const detail::NvtxRange range("copy/h2d");
  if (loader.batch_size() > images_.dim(0))
    throw ConfigError("BatchPipeline: loader batch larger than the model's");
  if (!ctx_.is_cuda()) return loader.fill(b, images_.data(), labels_.data());
  const int64_t n = loader.fill(b, host_images_.data(), host_labels_.data());
  images_.copy_from_host(host_images_.data(), n * loader.dataset().image_size(), ctx_.stream());
  labels_.copy_from_host(host_labels_.data(), n, ctx_.stream());
  return n;
}

void BatchPipeline::forward_loss(int64_t slot, int64_t n, bool with_grad) {
  const detail::NvtxRange range(with_grad ? "step/forward+loss" : "eval/forward+loss");
  if (slot < 0 || slot >= sums_.dim(0)) throw ConfigError("BatchPipeline: slot out of range");
  Tensor input = images_.narrow_batch(n);
  if (resize_) {  // on the training device, after staging
    Tensor resized = resized_.narrow_batch(n);
    resize_->forward(input, resized, ctx_);
    input = std::move(resized);
  }
  const Tensor& logits = model_.forward(input, ctx_);
  loss_.forward(logits, labels_.narrow_batch(n), with_grad ? &model_.output_grad() : nullptr,
                sums_.data() + 2 * slot, ctx_);
}

SlotSums BatchPipeline::sums(int64_t begin, int64_t end, SlotSums start) const {
  const std::vector<float> host = sums_.to_vector(ctx_.stream());
  SlotSums s = start;
  s.first_nonfinite = -1;
  for (int64_t b = begin; b < end; ++b) {
    const float loss = host[static_cast<size_t>(2 * b)];
    if (!std::isfinite(loss) && s.first_nonfinite < 0) s.first_nonfinite = b;
    s.loss += loss;
    s.hits += host[static_cast<size_t>(2 * b + 1)];
  }
  return s;
}

EvalResult BatchPipeline::totals(int64_t batches, int64_t examples) const {
  const SlotSums s = sums(0, batches);
  return {s.loss / static_cast<double>(examples), s.hits / static_cast<double>(examples),
          examples};
}

EvalResult BatchPipeline::evaluate(const data::ImageDataset& data) {
  const detail::NvtxRange range("eval");
  model_.set_training(false);
  data::BatchLoader loader(data, model_.max_batch(), /*shuffle=*/false, 0);
  loader.start_epoch(0);
  if (loader.batches() > slots())
    throw ConfigError("evaluate: " + data.source + " needs " + std::to_string(loader.batches()) +
                      " batches, the pipeline was built for " + std::to_string(slots()));
  for (int64_t b = 0; b < loader.batches(); ++b) forward_loss(b, stage(loader, b), false);
  return totals(loader.batches(), loader.size());
}

EvalResult evaluate_model(Sequential& model, const data::ImageDataset& data, Context& ctx,
                          int64_t resize) {
  const int64_t batches = (data.count + model.max_batch() - 1) / model.max_batch();
  BatchPipeline pipeline(model, ctx, {data.channels, data.height, data.width}, batches, resize);
  return pipeline.evaluate(data);
}

}  // namespace cutrain
