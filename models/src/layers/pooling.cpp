// Pool2d: shape checks and the CPU path, one (n, c) plane per loop iteration.
#include "cutrain/models/pooling.h"

#include <algorithm>

#include "cutrain/error.h"

namespace cutrain {

Pool2d::~Pool2d() = default;

Pool2d::Pool2d(PoolMode mode, int64_t kernel, int64_t stride, int64_t padding)
    : mode_(mode), kernel_(kernel), stride_(stride), padding_(padding) {
  CUTRAIN_REQUIRE(kernel > 0 && stride > 0, "Pool2d: kernel and stride must be positive");
  CUTRAIN_REQUIRE(padding >= 0 && 2 * padding <= kernel,
                  "Pool2d: padding must be in [0, kernel / 2]");
}

Shape Pool2d::build(const Shape& in, Device, Rng&) {
  const int64_t span = kernel_ - 2 * padding_;  // the padded input must hold one window
  if (in.size() != 4 || in[2] < span || in[3] < span || in[2] < 1 || in[3] < 1)
    throw ConfigError(kind() + ": expected input [N, C, H, W] with H, W >= " +
                      std::to_string(std::max<int64_t>(span, 1)) + ", got " + to_string(in));
  in_shape_ = in;
  out_shape_ = {in[0], in[1], (in[2] + 2 * padding_ - kernel_) / stride_ + 1,
                (in[3] + 2 * padding_ - kernel_) / stride_ + 1};
  return out_shape_;
}

namespace {
// The part of a window inside the image: rows [u0, u1) and columns [v0, v1) of the window whose
// top-left corner is (top, left) (negative in the padding). Never empty: padding <= kernel / 2.
struct Window {
  int64_t top, left, u0, u1, v0, v1;
};
Window window_at(int64_t i, int64_t j, int64_t stride, int64_t pad, int64_t k, int64_t h,
                 int64_t w) {
  Window win;
  win.top = i * stride - pad;
  win.left = j * stride - pad;
  win.u0 = std::max<int64_t>(0, -win.top);
  win.u1 = std::min<int64_t>(k, h - win.top);
  win.v0 = std::max<int64_t>(0, -win.left);
  win.v1 = std::min<int64_t>(k, w - win.left);
  return win;
}
}  // namespace

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
        const Window win = window_at(i, j, stride_, padding_, kernel_, h, w);
        const int64_t base = win.top * w + win.left;  // negative when the corner is padding
        float acc = mode_ == PoolMode::Max ? in[base + win.u0 * w + win.v0] : 0.0f;
        for (int64_t u = win.u0; u < win.u1; ++u)
          for (int64_t v = win.v0; v < win.v1; ++v) {
            const float val = in[base + u * w + v];
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
        const Window win = window_at(i, j, stride_, padding_, kernel_, h, w);
        const int64_t base = win.top * w + win.left;  // offsets relative to the plane
        if (mode_ == PoolMode::Average) {
          for (int64_t u = win.u0; u < win.u1; ++u)
            for (int64_t v = win.v0; v < win.v1; ++v)
              out[base + u * w + v] += g[i * wo + j] * inv_area;
          continue;
        }
        int64_t best = base + win.u0 * w + win.v0;  // first maximum, as the forward saw it
        for (int64_t u = win.u0; u < win.u1; ++u)
          for (int64_t v = win.v0; v < win.v1; ++v)
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
