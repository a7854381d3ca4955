#include "cutrain/models/batchnorm.h"

#include "batchnorm.h"
#include "cutrain/error.h"
#include "layers/init.h"

namespace cutrain {

namespace {
std::string dims_text(int spatial_dims, int64_t channels) {
  return "[N, " + std::to_string(channels) + (spatial_dims == 2 ? ", H, W]" : "]");
}
}  // namespace

BatchNorm::BatchNorm(int spatial_dims, int64_t num_features, BatchNormOptions options)
    : spatial_dims_(spatial_dims), features_(num_features), opt_(options) {
  CUTRAIN_REQUIRE(spatial_dims == 0 || spatial_dims == 2,
                  "BatchNorm: spatial_dims must be 0 (BatchNorm1d) or 2 (BatchNorm2d)");
  CUTRAIN_REQUIRE(num_features > 0, "BatchNorm: num_features must be positive");
  CUTRAIN_REQUIRE(opt_.eps > 0.0, "BatchNorm: eps must be positive");
  CUTRAIN_REQUIRE(opt_.momentum >= 0.0 && opt_.momentum <= 1.0,
                  "BatchNorm: momentum must be in [0, 1]");
}

BatchNorm::~BatchNorm() = default;

std::string BatchNorm::display_name() const {
  return std::string(spatial_dims_ == 2 ? "BatchNorm2d(" : "BatchNorm1d(") +
         std::to_string(features_) + ")";
}

std::string BatchNorm::kind() const {
  return std::string(spatial_dims_ == 2 ? "batchnorm2d" : "batchnorm1d") +
         (opt_.fuse_relu ? "+relu" : "");
}

// Rank and channels always; H and W against the built shape after build (the batch may be
// smaller than the built one).
void BatchNorm::check_input(const Shape& in, bool built) const {
  const std::string name = display_name();
  const std::string expected = dims_text(spatial_dims_, features_);
  if (in.size() != static_cast<size_t>(2 + spatial_dims_))
    throw ConfigError(name + ": expected input " + expected + ", got " + to_string(in));
  if (in[1] != features_)
    throw ConfigError(name + ": expected " + std::to_string(features_) +
                      (spatial_dims_ == 2 ? " channels" : " features") + " (input " + expected +
                      "), got " + std::to_string(in[1]) + " in input " + to_string(in));
  for (size_t i = 2; i < in.size(); ++i)
    if (in[i] <= 0 || (built && in[i] != in_shape_[i]))
      throw ConfigError(name + ": input " + to_string(in) + " does not match the built " +
                        to_string(in_shape_));
  if (in[0] <= 0 || (built && in[0] > in_shape_[0]))
    throw ConfigError(name + ": input " + to_string(in) + " has no rows or more than the built " +
                      to_string(in_shape_));
}

Shape BatchNorm::build(const Shape& in, Device device, Rng&) {
  check_input(in, false);
  in_shape_ = in;
  const Shape c{features_};
  detail::make_param(weight_, dweight_, c, device);
  detail::make_param(bias_, dbias_, c, device);
  weight_.fill(1.0f);
  running_mean_ = Tensor::zeros(c, device);
  running_var_ = Tensor(c, device);
  running_var_.fill(1.0f);
  save_mean_ = Tensor::zeros(c, device);
  save_inv_std_ = Tensor::zeros(c, device);
  if (device == Device::CUDA) {
    const int64_t s = numel_of(in) / (in[0] * features_);
    scratch_ = Tensor(Shape{kernels::batchnorm_scratch_floats({in[0], features_, s})}, device);
  }
  return in;
}

void BatchNorm::forward(const Tensor& x, Tensor& y, Context& ctx) {
  forward_view(BatchView::of(x), BatchView::of(y), ctx);
}

void BatchNorm::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                         Context& ctx) {
  if (dx == nullptr)
    return backward_view(BatchView::of(x), BatchView::of(y), BatchView::of(dy), nullptr, ctx);
  const BatchView dxv = BatchView::of(*dx);
  backward_view(BatchView::of(x), BatchView::of(y), BatchView::of(dy), &dxv, ctx);
}

kernels::BnDims BatchNorm::view_dims(const BatchView& x, const BatchView& y) const {
  check_input(x.shape, true);
  if (y.shape != x.shape)
    throw ConfigError(display_name() + ": output " + to_string(y.shape) + " for input " +
                      to_string(x.shape));
  const int64_t n = x.batch(), s = x.sample_numel() / features_;
  if (x.batch_stride < x.sample_numel() || y.batch_stride < y.sample_numel())
    throw ConfigError(display_name() + ": a batch stride smaller than its sample");
  return {n, features_, s, x.batch_stride, y.batch_stride};
}

void BatchNorm::forward_view(const BatchView& x, const BatchView& y, Context& ctx) {
  const kernels::BnDims d = view_dims(x, y);
  const int64_t n = d.n;
  if (training_ && d.per_channel() < 2)
    throw ConfigError(display_name() +
                      ": expected more than 1 value per channel when training, got input " +
                      to_string(x.shape) +
                      (x.shape[0] == 1 ? " (a last batch of one example? train with --drop-last)"
                                       : ""));
  kernels::BnConfig cfg{opt_.eps, opt_.momentum, opt_.fuse_relu};
  if (training_ && cumulative_batches_ >= 0)
    cfg.momentum = 1.0 / static_cast<double>(++cumulative_batches_);  // 1, 1/2, 1/3, ...
  kernels::BnChannels ch;
  ch.gamma = weight_.data();
  ch.beta = bias_.data();
  ch.running_mean = running_mean_.data();
  ch.running_var = running_var_.data();
  ch.save_mean = save_mean_.data();
  ch.save_inv_std = save_inv_std_.data();
  saved_batch_ = training_ ? n : 0;
  if (ctx.is_cuda()) {
    if (training_)
      kernels::launch_batchnorm_forward_train(d, cfg, ch, x.data, y.data, scratch_.data(),
                                              ctx.stream());
    else
      kernels::launch_batchnorm_forward_infer(d, cfg, ch, x.data, y.data, ctx.stream());
  } else if (training_) {
    kernels::batchnorm_forward_train_cpu(d, cfg, ch, x.data, y.data);
  } else {
    kernels::batchnorm_forward_infer_cpu(d, cfg, ch, x.data, y.data);
  }
}

void BatchNorm::backward_view(const BatchView& x, const BatchView& y, const BatchView& dy,
                              const BatchView* dx, Context& ctx, bool accumulate_dx) {
  const kernels::BnDims d = view_dims(x, y);
  const int64_t n = d.n;
  if (dy.shape != y.shape || dy.batch_stride != y.batch_stride ||
      (dx != nullptr && (dx->shape != x.shape || dx->batch_stride != x.batch_stride)))
    throw ConfigError(display_name() + ": dy must have y's shape and batch stride, dx x's");
  if (saved_batch_ != n)
    throw ConfigError(display_name() +
                      ": backward needs a training-mode forward of the same batch (" +
                      std::to_string(n) + ") just before it");
  kernels::BnConfig cfg{opt_.eps, opt_.momentum, opt_.fuse_relu};
  cfg.accumulate_dx = accumulate_dx;
  kernels::BnChannels ch;
  ch.gamma = weight_.data();
  ch.save_mean = save_mean_.data();
  ch.save_inv_std = save_inv_std_.data();
  ch.dgamma = dweight_.data();
  ch.dbeta = dbias_.data();
  float* dxp = dx != nullptr ? dx->data : nullptr;
  if (ctx.is_cuda())
    kernels::launch_batchnorm_backward(d, cfg, ch, x.data, y.data, dy.data, dxp, scratch_.data(),
                                       ctx.stream());
  else
    kernels::batchnorm_backward_cpu(d, cfg, ch, x.data, y.data, dy.data, dxp);
}

void BatchNorm::set_cumulative_statistics(bool on) { cumulative_batches_ = on ? 0 : -1; }

std::vector<Parameter> BatchNorm::parameters() {
  return {{"weight", &weight_, &dweight_}, {"bias", &bias_, &dbias_}};
}

std::vector<NamedTensor> BatchNorm::buffers() {
  return {{"running_mean", &running_mean_}, {"running_var", &running_var_}};
}

}  // namespace cutrain
