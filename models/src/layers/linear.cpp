#include "cutrain/models/linear.h"

#include "activation.h"
#include "cutrain/error.h"
#include "layers/activation_kind.h"
#include "layers/gemm_cpu.h"
#include "layers/init.h"
#include "layers/linear_cublas.h"

namespace cutrain {

Linear::Linear(int64_t in_features, int64_t out_features) : in_(in_features), out_(out_features) {
  CUTRAIN_REQUIRE(in_ > 0 && out_ > 0, "Linear: feature counts must be positive");
}
Linear::~Linear() = default;

Shape Linear::build(const Shape& in, Device device, Rng& rng) {
  if (in.size() != 2 || in[1] != in_)
    throw ConfigError("Linear(" + std::to_string(in_) + " -> " + std::to_string(out_) +
                      "): expected input [N, " + std::to_string(in_) + "], got " + to_string(in));
  detail::make_param(weight_, dweight_, {out_, in_}, device);
  detail::make_param(bias_, dbias_, {out_}, device);
  detail::xavier_uniform(weight_, in_, out_, rng);
  device_ = device;
  max_batch_ = in[0];
#if CUTRAIN_WITH_CUDA
  if (device == Device::CUDA) cublas_ = std::make_shared<detail::LinearCublas>(in[0]);
#endif
  return {in[0], out_};
}

bool Linear::absorb_activation(ActivationKind kind) {
  if (act_ || max_batch_ == 0) return false;  // once, after build
  act_ = kind;
  act_grad_ = Tensor(Shape{max_batch_, out_}, device_);
#if CUTRAIN_WITH_CUDA
  if (cublas_) cublas_->set_activation(detail::to_kernel(kind));
#endif
  return true;
}

void Linear::forward(const Tensor& x, Tensor& y, Context& ctx) {
  const int64_t n = x.dim(0);
  if (ctx.is_cuda()) {
#if CUTRAIN_WITH_CUDA
    cublas_->forward(x, weight_, bias_, y, ctx);
#endif
    return;
  }
  float* yp = y.data();
  const float* b = bias_.data();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out_; ++o) yp[i * out_ + o] = b[o];
  detail::gemm_cpu(false, true, n, out_, in_, 1.0f, x.data(), in_, weight_.data(), in_, 1.0f, yp,
                   out_);
  if (act_) kernels::activation_forward_cpu(detail::to_kernel(*act_), yp, yp, n * out_);
}

void Linear::backward(const Tensor& x, const Tensor& y, const Tensor& dy_post, Tensor* dx,
                      Context& ctx) {
  const int64_t n = x.dim(0);
  // With an absorbed activation, first dL/d(pre-activation) from the output y.
  Tensor pre_grad;
  if (act_) {
    if (y.shape() != dy_post.shape() || dy_post.shape() != Shape{n, out_} || n > max_batch_)
      throw ConfigError("Linear: y " + to_string(y.shape()) + " and dy " +
                        to_string(dy_post.shape()) + " must match, at most the built batch");
    pre_grad = act_grad_.narrow_batch(n);
    const auto a = detail::to_kernel(*act_);
    if (ctx.is_cuda())
      kernels::launch_activation_backward(a, y.data(), y.data(), dy_post.data(), pre_grad.data(),
                                          dy_post.numel(), ctx.stream());
    else
      kernels::activation_backward_cpu(a, y.data(), y.data(), dy_post.data(), pre_grad.data(),
                                       dy_post.numel());
  }
  const Tensor& dy = act_ ? pre_grad : dy_post;
  if (ctx.is_cuda()) {
#if CUTRAIN_WITH_CUDA
    cublas_->backward(x, weight_, dy, dweight_, dbias_, dx, ctx);
#endif
    return;
  }
  detail::gemm_cpu(true, false, out_, in_, n, 1.0f, dy.data(), out_, x.data(), in_, 0.0f,
                   dweight_.data(), in_);
  float* db = dbias_.data();
  const float* g = dy.data();
  for (int64_t o = 0; o < out_; ++o) db[o] = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out_; ++o) db[o] += g[i * out_ + o];
  if (dx != nullptr)
    detail::gemm_cpu(false, false, n, in_, out_, 1.0f, dy.data(), out_, weight_.data(), in_, 0.0f,
                     dx->data(), in_);
}

bool Linear::bias_fused() const {
#if CUTRAIN_WITH_CUDA
  return cublas_ && cublas_->forward_fused() && cublas_->backward_fused();
#else
  return false;
#endif
}

std::vector<Parameter> Linear::parameters() {
  return {{"weight", &weight_, &dweight_}, {"bias", &bias_, &dbias_}};
}

}  // namespace cutrain
