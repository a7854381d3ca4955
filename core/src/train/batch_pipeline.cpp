#include "cutrain/train/batch_pipeline.h"

#include <cmath>

#include "cutrain/error.h"
#include "cutrain/models/bilinear_resize.h"
#include "nvtx_range.h"
#include "softmax_ce_math.h"
#include "train/input_stage.h"
#include "train/step_graphs.h"

namespace cutrain {

BatchPipeline::BatchPipeline(Sequential& model, Context& ctx, const Shape& sample_shape,
                             int64_t max_batches, const PipelineOptions& options)
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
  loss_.build(b, ctx.device());
  const int64_t resize = options.resize;
  if (resize < 0)
    throw ConfigError("--resize must be >= 0 (0: off), got " + std::to_string(resize));
  if (resize > 0) {
    if (x_shape.size() != 4)
      throw ConfigError("--resize needs image samples [C, H, W], got " + to_string(sample_shape));
    resize_ = std::make_unique<BilinearResize>(resize, resize);
    Rng unused(0);
    resized_ = Tensor(resize_->build(x_shape, ctx.device(), unused), ctx.device());
  }
  if (options.data_on_device && !ctx.is_cuda())
    throw ConfigError("--data-on-device needs --device cuda");
  const detail::InputMode mode = !ctx.is_cuda()            ? detail::InputMode::Host
                                 : options.data_on_device ? detail::InputMode::Resident
                                                          : detail::InputMode::Pinned;
  input_ = detail::make_input_stage(mode, b, numel_of(sample_shape), ctx);
  graphs_ = std::make_unique<detail::StepGraphs>(options.cuda_graph, ctx);
  if (options.cuda_graph) step_sums_ = Tensor::zeros(Shape{2}, ctx.device());
}

BatchPipeline::~BatchPipeline() = default;

int64_t BatchPipeline::stage(const data::BatchLoader& loader, int64_t b) {
  const detail::NvtxRange range("copy/h2d");
  if (loader.batch_size() > images_.dim(0))
    throw ConfigError("BatchPipeline: loader batch larger than the model's");
  if (loader.dataset().image_size() * images_.dim(0) != images_.numel())
    throw ConfigError("BatchPipeline: " + loader.dataset().source + " has samples of " +
                      std::to_string(loader.dataset().image_size()) + " values, the pipeline " +
                      "was built for " + std::to_string(images_.numel() / images_.dim(0)));
  return input_->stage(loader, b, images_.data(), labels_.data(), ctx_);
}

const Tensor& BatchPipeline::enqueue_forward(int64_t n) {
  Tensor input = images_.narrow_batch(n);
  if (resize_) {  // on the training device, after staging
    Tensor resized = resized_.narrow_batch(n);
    resize_->forward(input, resized, ctx_);
    input = std::move(resized);
  }
  return model_.forward(input, ctx_);
}

void BatchPipeline::enqueue_forward_loss(float* sums, int64_t n, bool with_grad) {
  const Tensor& logits = enqueue_forward(n);
  loss_.forward(logits, labels_.narrow_batch(n), with_grad ? &model_.output_grad() : nullptr,
                sums, ctx_);
}

void BatchPipeline::run_batch(int64_t slot, int64_t n, bool with_grad,
                              const std::function<void(float*)>& work) {
  if (slot < 0 || slot >= sums_.dim(0)) throw ConfigError("BatchPipeline: slot out of range");
  if (n < 1 || n > images_.dim(0)) throw ConfigError("BatchPipeline: batch size out of range");
  float* slot_sums = sums_.data() + 2 * slot;
  if (!graphs_->enabled()) {
    work(slot_sums);
    return;
  }
  // A graph's pointers are fixed: it writes one pair, copied into this batch's slot after.
  // n < 2^40 (a batch is at most 2^20 examples): the key keeps the three fields apart.
  const int64_t key = (layer_modes_id() << 41) | (n << 1) | (with_grad ? 1 : 0);
  graphs_->run(key, [&] { work(step_sums_.data()); });
  Tensor::borrow(slot_sums, Shape{2}, ctx_.device()).copy_from(step_sums_, ctx_.stream());
}

int64_t BatchPipeline::layer_modes_id() {
  layer_modes_.clear();
  for (const auto& layer : model_.layers()) layer_modes_.push_back(layer->training());
  const auto it = layer_modes_ids_.find(layer_modes_);  // no allocation in the steady state
  if (it != layer_modes_ids_.end()) return it->second;
  const auto id = static_cast<int64_t>(layer_modes_ids_.size());
  layer_modes_ids_.emplace(layer_modes_, id);
  return id;
}

void BatchPipeline::train_step(int64_t slot, int64_t n, Optimizer& optimizer) {
  const detail::NvtxRange range("step");
  if (graphs_->enabled() && optimizer.serial() != graph_optimizer_) {
    // The training graphs captured so far update another optimizer's state.
    if (graph_optimizer_ != 0) graphs_->clear();
    graph_optimizer_ = optimizer.serial();
  }
  optimizer.prepare_step(ctx_);  // host half: never part of a graph
  run_batch(slot, n, true, [&](float* sums) {
    {
      const detail::NvtxRange fwd("step/forward+loss");
      enqueue_forward_loss(sums, n, /*with_grad=*/true);
    }
    model_.backward(ctx_);
    optimizer.enqueue_step(ctx_);
  });
}

void BatchPipeline::eval_step(int64_t slot, int64_t n) {
  const detail::NvtxRange range("eval/forward+loss");
  run_batch(slot, n, false, [&](float* sums) { enqueue_forward_loss(sums, n, false); });
}

int64_t BatchPipeline::graph_captures() const { return graphs_->captures(); }
int64_t BatchPipeline::graph_replays() const { return graphs_->replays(); }
int64_t BatchPipeline::graph_failed_captures() const { return graphs_->failed_captures(); }
int64_t BatchPipeline::graph_max_nodes() const { return graphs_->max_nodes(); }

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
  for (int64_t b = 0; b < loader.batches(); ++b) eval_step(b, stage(loader, b));
  return totals(loader.batches(), loader.size());
}

std::vector<int32_t> BatchPipeline::predict(const data::ImageDataset& data) {
  const detail::NvtxRange range("predict");
  model_.set_training(false);
  data::BatchLoader loader(data, model_.max_batch(), /*shuffle=*/false, 0);
  loader.start_epoch(0);
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(loader.size()));
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const int64_t n = stage(loader, b);
    const Tensor& logits = enqueue_forward(n);
    if (logits.rank() != 2 || logits.dim(0) != n)
      throw ConfigError("predict: the model's output is " + to_string(logits.shape()) +
                        ", expected [" + std::to_string(n) + ", classes]");
    const int classes = static_cast<int>(logits.dim(1));
    const std::vector<float> host = logits.to_vector(ctx_.stream());
    for (int64_t i = 0; i < n; ++i)
      out.push_back(kernels::first_arg_max(host.data() + i * classes, classes));
  }
  return out;
}

int64_t BatchPipeline::recompute_batchnorm_statistics(const data::ImageDataset& data,
                                                      int64_t limit) {
  const detail::NvtxRange range("precise-bn");
  data::BatchLoader loader(data, model_.max_batch(), /*shuffle=*/false, 0, limit,
                           /*drop_last=*/true);  // a batch of one has no variance
  loader.start_epoch(0);
  struct Restore {  // the layers' own momentum and evaluation mode, also after an exception
    Sequential& model;
    ~Restore() {
      model.set_cumulative_statistics(false);
      model.set_training(false);
    }
  } restore{model_};
  model_.set_training(true);
  model_.set_cumulative_statistics(true);
  for (int64_t b = 0; b < loader.batches(); ++b)
    enqueue_forward_loss(sums_.data(), stage(loader, b), /*with_grad=*/false);  // slot 0 unread
  return loader.batches() * loader.batch_size();
}

EvalResult evaluate_model(Sequential& model, const data::ImageDataset& data, Context& ctx,
                          const PipelineOptions& options) {
  const int64_t batches = (data.count + model.max_batch() - 1) / model.max_batch();
  BatchPipeline pipeline(model, ctx, {data.channels, data.height, data.width}, batches, options);
  return pipeline.evaluate(data);
}

}  // namespace cutrain
