// Conv2d: shape checks, parameters, and the CPU path (im2col + GEMM per image).
#include "cutrain/models/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include "activation.h"
#include "channel_bias_activation.h"
#include "cutrain/error.h"
#include "layers/activation_kind.h"
#include "layers/gemm_cpu.h"
#include "layers/im2col_cpu.h"
#include "layers/init.h"

namespace cutrain {

Conv2d::~Conv2d() = default;

Conv2d::Conv2d(Conv2dOptions options) : opt_(options) {
  CUTRAIN_REQUIRE(opt_.in_channels > 0 && opt_.out_channels > 0 && opt_.kernel > 0 &&
                      opt_.stride > 0 && opt_.padding >= 0,
                  "Conv2d: channels, kernel and stride must be positive, padding >= 0");
}

Shape Conv2d::build(const Shape& in, Device device, Rng& rng) {
  if (in.size() != 4 || in[1] != opt_.in_channels)
    throw ConfigError("Conv2d: expected input [N, " + std::to_string(opt_.in_channels) +
                      ", H, W], got " + to_string(in));
  const int64_t ho = (in[2] + 2 * opt_.padding - opt_.kernel) / opt_.stride + 1;
  const int64_t wo = (in[3] + 2 * opt_.padding - opt_.kernel) / opt_.stride + 1;
  if (in[2] + 2 * opt_.padding < opt_.kernel || in[3] + 2 * opt_.padding < opt_.kernel)
    throw ConfigError("Conv2d: kernel " + std::to_string(opt_.kernel) +
                      " is larger than the padded input " + to_string(in));
  in_shape_ = in;
  out_shape_ = {in[0], opt_.out_channels, ho, wo};
  device_ = device;
  const int64_t k = opt_.in_channels * opt_.kernel * opt_.kernel;
  detail::make_param(weight_, dweight_, {opt_.out_channels, opt_.in_channels, opt_.kernel,
                                         opt_.kernel}, device);
  detail::make_param(bias_, dbias_, {opt_.out_channels}, device);
  detail::xavier_uniform(weight_, k, opt_.out_channels * opt_.kernel * opt_.kernel, rng);
  if (device == Device::CPU) {
    threads_ = std::max(1, omp_get_max_threads());
    cols_ = Tensor(Shape{threads_, k * ho * wo}, Device::CPU);
    dweight_part_ = Tensor(Shape{threads_, opt_.out_channels * k}, Device::CPU);
    dbias_part_ = Tensor(Shape{threads_, opt_.out_channels}, Device::CPU);
  }
  return out_shape_;
}

bool Conv2d::absorb_activation(ActivationKind kind) {
  // Once, after build; the fused backward's grid holds at most 65535 channels.
  if (act_ || out_shape_.empty() || (device_ == Device::CUDA && out_shape_[1] > 65535))
    return false;
  act_ = kind;
  act_grad_ = Tensor(out_shape_, device_);
  if (device_ == Device::CUDA) {
    const kernels::ChannelDims d{out_shape_[0], out_shape_[1], out_shape_[2] * out_shape_[3],
                                 out_shape_[1] * out_shape_[2] * out_shape_[3]};
    act_partials_ = Tensor(Shape{kernels::activation_bias_backward_partials(d)}, device_);
    act_counters_ = Tensor::zeros(Shape{out_shape_[1]}, device_);  // 0.0f: the bits of 0u
  }
  return true;
}

void Conv2d::forward(const Tensor& x, Tensor& y, Context& ctx) {
  forward_view(BatchView::of(x), BatchView::of(y), ctx);
}

void Conv2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                      Context& ctx) {
  const BatchView xv = BatchView::of(x);
  const BatchView dxv = dx != nullptr ? BatchView::of(*dx) : BatchView{};
  const BatchView* dxp = dx != nullptr ? &dxv : nullptr;
  if (!act_) return backward_view(xv, BatchView::of(dy), dxp, ctx);
  // dL/d(pre-activation) first (into act_grad_, so dy and y must be this layer's output shape);
  // on CUDA its launch also reduces the bias gradient.
  Shape want = out_shape_;
  want[0] = dy.rank() == 4 ? dy.dim(0) : 0;
  if (dy.shape() != want || want[0] < 1 || want[0] > out_shape_[0] || y.shape() != want)
    throw ConfigError("Conv2d: y " + to_string(y.shape()) + " and dy " + to_string(dy.shape()) +
                      " must both be the output " + to_string(out_shape_) +
                      " of at most the built batch");
  Tensor g = act_grad_.narrow_batch(dy.dim(0));
  const auto a = detail::to_kernel(*act_);
  check_views(xv, BatchView::of(g), dxp);
  if (!ctx.is_cuda()) {
    kernels::activation_backward_cpu(a, y.data(), y.data(), dy.data(), g.data(), dy.numel());
    return backward_cpu(xv, BatchView::of(g), dxp);
  }
  const kernels::ChannelDims d{dy.dim(0), dy.dim(1), dy.dim(2) * dy.dim(3),
                               dy.dim(1) * dy.dim(2) * dy.dim(3)};
  kernels::launch_activation_bias_backward(a, d, y.data(), dy.data(), g.data(), dbias_.data(),
                                           act_partials_.data(),
                                           reinterpret_cast<unsigned*>(act_counters_.data()),
                                           ctx.stream());
  backward_cuda(xv, BatchView::of(g), dxp, ctx, /*bias_done=*/true);
}

void Conv2d::check_views(const BatchView& x, const BatchView& y, const BatchView* dx) const {
  const int64_t n = x.batch();
  const Shape want_x{n, in_shape_[1], in_shape_[2], in_shape_[3]};
  const Shape want_y{n, out_shape_[1], out_shape_[2], out_shape_[3]};
  if (x.shape != want_x || y.shape != want_y || n < 1 || n > in_shape_[0])
    throw ConfigError("Conv2d: views " + to_string(x.shape) + " -> " + to_string(y.shape) +
                      " do not match the built " + to_string(in_shape_) + " -> " +
                      to_string(out_shape_));
  if (x.batch_stride < x.sample_numel() || y.batch_stride < y.sample_numel())
    throw ConfigError("Conv2d: a batch stride smaller than its sample");
  if (dx != nullptr && (dx->shape != x.shape || dx->batch_stride != x.batch_stride))
    throw ConfigError("Conv2d: dx " + to_string(dx->shape) + " must have x's shape " +
                      to_string(x.shape) + " and batch stride");
}

void Conv2d::forward_view(const BatchView& x, const BatchView& y, Context& ctx) {
  check_views(x, y, nullptr);
  if (ctx.is_cuda())
    forward_cuda(x, y, ctx);
  else
    forward_cpu(x, y);
}

void Conv2d::backward_view(const BatchView& x, const BatchView& dy, const BatchView* dx,
                           Context& ctx) {
  if (act_)
    throw ConfigError("Conv2d: backward_view() after absorbing an activation (use backward())");
  check_views(x, dy, dx);
  if (ctx.is_cuda())
    backward_cuda(x, dy, dx, ctx);
  else
    backward_cpu(x, dy, dx);
}

std::vector<Parameter> Conv2d::parameters() {
  return {{"weight", &weight_, &dweight_}, {"bias", &bias_, &dbias_}};
}

namespace {
// Images [begin, end) of thread t out of T: contiguous ranges, fixed for a given T.
struct Range {
  int64_t begin, end;
};
Range thread_range(int64_t n, int t, int threads) {
  return {n * t / threads, n * (t + 1) / threads};
}
}  // namespace

void Conv2d::forward_cpu(const BatchView& x, const BatchView& y) {
  const int64_t n = x.batch(), c = opt_.in_channels, h = in_shape_[2], w = in_shape_[3];
  const int64_t o = opt_.out_channels, hw_out = out_shape_[2] * out_shape_[3];
  const int64_t k = c * opt_.kernel * opt_.kernel;
  const detail::Im2colGeometry g{c, h, w, opt_.kernel, opt_.stride, opt_.padding,
                                 out_shape_[2], out_shape_[3]};
#pragma omp parallel num_threads(threads_)
  {
    const int t = omp_get_thread_num();
    const Range r = thread_range(n, t, omp_get_num_threads());
    float* cols = cols_.data() + t * k * hw_out;
    for (int64_t i = r.begin; i < r.end; ++i) {
      float* yi = y.sample(i);
      for (int64_t oc = 0; oc < o; ++oc) std::fill(yi + oc * hw_out, yi + (oc + 1) * hw_out,
                                                   bias_.data()[oc]);
      detail::im2col_cpu(x.sample(i), g, cols);
      detail::gemm_cpu(false, false, o, hw_out, k, 1.0f, weight_.data(), k, cols, hw_out, 1.0f,
                       yi, hw_out);
      if (act_) {
        const auto a = detail::to_kernel(*act_);
        for (int64_t j = 0; j < o * hw_out; ++j) yi[j] = kernels::activation_forward(a, yi[j]);
      }
    }
  }
}

void Conv2d::backward_cpu(const BatchView& x, const BatchView& dy, const BatchView* dx) {
  const int64_t n = x.batch(), c = opt_.in_channels, h = in_shape_[2], w = in_shape_[3];
  const int64_t o = opt_.out_channels, hw_out = out_shape_[2] * out_shape_[3];
  const int64_t k = c * opt_.kernel * opt_.kernel;
  const detail::Im2colGeometry g{c, h, w, opt_.kernel, opt_.stride, opt_.padding,
                                 out_shape_[2], out_shape_[3]};
  int used_threads = 1;
#pragma omp parallel num_threads(threads_)
  {
    const int t = omp_get_thread_num();
#pragma omp single
    used_threads = omp_get_num_threads();
    const Range r = thread_range(n, t, omp_get_num_threads());
    float* cols = cols_.data() + t * k * hw_out;
    float* dw = dweight_part_.data() + t * o * k;
    float* db = dbias_part_.data() + t * o;
    std::fill(dw, dw + o * k, 0.0f);
    std::fill(db, db + o, 0.0f);
    for (int64_t i = r.begin; i < r.end; ++i) {
      const float* dyi = dy.sample(i);
      for (int64_t oc = 0; oc < o; ++oc) {
        float s = 0.0f;
        for (int64_t j = 0; j < hw_out; ++j) s += dyi[oc * hw_out + j];
        db[oc] += s;
      }
      detail::im2col_cpu(x.sample(i), g, cols);
      // dW += dY_i cols^T
      detail::gemm_cpu(false, true, o, k, hw_out, 1.0f, dyi, hw_out, cols, hw_out, 1.0f, dw, k);
      if (dx != nullptr) {
        // dcols = W^T dY_i, then scatter-add back to the image.
        detail::gemm_cpu(true, false, k, hw_out, o, 1.0f, weight_.data(), k, dyi, hw_out, 0.0f,
                         cols, hw_out);
        detail::col2im_cpu(cols, g, dx->sample(i));
      }
    }
  }
  // Sum the per-thread partials in thread order: deterministic for a given thread count.
  float* dw = dweight_.data();
  float* db = dbias_.data();
  std::memcpy(dw, dweight_part_.data(), sizeof(float) * o * k);
  std::memcpy(db, dbias_part_.data(), sizeof(float) * o);
  for (int t = 1; t < used_threads; ++t) {
    const float* pw = dweight_part_.data() + t * o * k;
    const float* pb = dbias_part_.data() + t * o;
    for (int64_t j = 0; j < o * k; ++j) dw[j] += pw[j];
    for (int64_t j = 0; j < o; ++j) db[j] += pb[j];
  }
}

#if !CUTRAIN_WITH_CUDA
struct Conv2d::CudnnState {};
void Conv2d::forward_cuda(const BatchView&, const BatchView&, Context&) {}
void Conv2d::backward_cuda(const BatchView&, const BatchView&, const BatchView*, Context&, bool) {}
#endif

}  // namespace cutrain
