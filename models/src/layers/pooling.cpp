// Pool2d: shape checks and the CPU path, one (n, c) plane per loop iteration.
#include "cutrain/models/pooling.h"

#include <algorithm>

#include "cutrain/error.h"

namespace cutrain {

Pool2d::~Pool2d() = default;

Pool2d::Pool2d(PoolMode mode, int64_t kernel, int64_t stride)
    : mode_(mode), kernel_(kernel), stride_(stride) {
  CUTRAIN_REQUIRE(kernel > 0 && stride > 0, "Pool2d: kernel and stride must be positive");
}

Shape Pool2d::build(const Shape& in, Device, Rng&) {
  if (in.size() != 4 || in[2] < kernel_ || in[3] < kernel_)
    throw ConfigError(kind() + ": expected input [N, C, H, W] with H, W >= " +
                      std::to_string(kernel_) + ", got " + to_string(in));
  in_shape_ = in;
  out_shape_ = {in[0], in[1], (in[2] - kernel_) / stride_ + 1, (in[3] - kernel_) / stride_ + 1};
  return out_shape_;
}

void Pool2d::forward(const Tensor& x, Tensor& y, Context& ctx) {
  if (ctx.is_cuda()) return forward_cuda(x, y, ctx);
  const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t ho = y.dim(2), wo = y.dim(3);
  const float inv_area = 1.0f / static_cast<float>(kernel_ * kernel_);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * h * w;
    float* out = y.data() + p * ho * wo;
    for (int64_t i = 0; i < ho; ++i) {
      for (int64_t j = 0; j < wo; ++j) {
        const float* win = in + i * stride_ * w + j * stride_;
        float acc = mode_ == PoolMode::Max ? win[0] : 0.0f;
        for (int64_t u = 0; u < kernel_; ++u)
          for (int64_t v = 0; v < kernel_; ++v) {
            const float val = win[u * w + v];
            acc = mode_ == PoolMode::Max ? std::max(acc, val) : acc + val;
          }
        out[i * wo + j] = mode_ == PoolMode::Max ? acc : acc * inv_area;
      }
    }
  }
}

void Pool2d::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                      Context& ctx) {
  if (dx == nullptr) return;
  if (ctx.is_cuda()) return backward_cuda(x, y, dy, *dx, ctx);
  const int64_t planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t ho = dy.dim(2), wo = dy.dim(3);
  const float inv_area = 1.0f / static_cast<float>(kernel_ * kernel_);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    const float* in = x.data() + p * h * w;
    const float* g = dy.data() + p * ho * wo;
    float* out = dx->data() + p * h * w;
    std::fill(out, out + h * w, 0.0f);  // windows may overlap (stride < kernel) or skip pixels
    for (int64_t i = 0; i < ho; ++i) {
      for (int64_t j = 0; j < wo; ++j) {
        const int64_t base = i * stride_ * w + j * stride_;
        if (mode_ == PoolMode::Average) {
          for (int64_t u = 0; u < kernel_; ++u)
            for (int64_t v = 0; v < kernel_; ++v) out[base + u * w + v] += g[i * wo + j] * inv_area;
          continue;
        }
        int64_t best = base;  // first maximum, as the forward pass saw it
        for (int64_t u = 0; u < kernel_; ++u)
          for (int64_t v = 0; v < kernel_; ++v)
            if (in[base + u * w + v] > in[best]) best = base + u * w + v;
        out[best] += g[i * wo + j];
      }
    }
  }
}

#if !CUTRAIN_WITH_CUDA
struct Pool2d::CudnnState {};
void Pool2d::forward_cuda(const Tensor&, Tensor&, Context&) {}
void Pool2d::backward_cuda(const Tensor&, const Tensor&, const Tensor&, Tensor&, Context&) {}
#endif

}  // namespace cutrain
