#include "cutrain/models/bilinear_resize.h"

#include "bilinear_resize.h"
#include "cutrain/error.h"

namespace cutrain {

BilinearResize::BilinearResize(int64_t out_height, int64_t out_width)
    : out_h_(out_height), out_w_(out_width) {
  CUTRAIN_REQUIRE(out_height > 0 && out_width > 0, "BilinearResize: sizes must be positive");
}

Shape BilinearResize::build(const Shape& in, Device, Rng&) {
  if (in.size() != 4 || in[2] < 1 || in[3] < 1)
    throw ConfigError("BilinearResize: expected input [N, C, H, W], got " + to_string(in));
  in_shape_ = in;
  return {in[0], in[1], out_h_, out_w_};
}

namespace {
kernels::ResizeDims dims_of(const Tensor& x, int64_t ho, int64_t wo) {
  return {x.dim(0) * x.dim(1), x.dim(2), x.dim(3), ho, wo};
}
}  // namespace

void BilinearResize::forward(const Tensor& x, Tensor& y, Context& ctx) {
  const kernels::ResizeDims d = dims_of(x, out_h_, out_w_);
  if (ctx.is_cuda())
    kernels::launch_bilinear_resize_forward(d, x.data(), y.data(), ctx.stream());
  else
    kernels::bilinear_resize_forward_cpu(d, x.data(), y.data());
}

void BilinearResize::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                              Context& ctx) {
  if (dx == nullptr) return;
  const kernels::ResizeDims d = dims_of(x, out_h_, out_w_);
  if (ctx.is_cuda())
    kernels::launch_bilinear_resize_backward(d, dy.data(), dx->data(), ctx.stream());
  else
    kernels::bilinear_resize_backward_cpu(d, dy.data(), dx->data());
}

}  // namespace cutrain
