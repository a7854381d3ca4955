#include "cutrain/models/global_avg_pool.h"

#include "cutrain/error.h"
#include "global_avg_pool.h"

namespace cutrain {

Shape GlobalAvgPool2d::build(const Shape& in, Device, Rng&) {
  if (in.size() != 4 || in[2] < 1 || in[3] < 1)
    throw ConfigError("GlobalAvgPool2d: expected input [N, C, H, W], got " + to_string(in));
  in_shape_ = in;
  return {in[0], in[1], 1, 1};
}

void GlobalAvgPool2d::forward(const Tensor& x, Tensor& y, Context& ctx) {
  const int64_t planes = x.dim(0) * x.dim(1), s = x.dim(2) * x.dim(3);
  if (ctx.is_cuda())
    kernels::launch_global_avg_pool_forward(x.data(), y.data(), planes, s, ctx.stream());
  else
    kernels::global_avg_pool_forward_cpu(x.data(), y.data(), planes, s);
}

void GlobalAvgPool2d::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx,
                               Context& ctx) {
  if (dx == nullptr) return;
  const int64_t planes = x.dim(0) * x.dim(1), s = x.dim(2) * x.dim(3);
  if (ctx.is_cuda())
    kernels::launch_global_avg_pool_backward(dy.data(), dx->data(), planes, s, ctx.stream());
  else
    kernels::global_avg_pool_backward_cpu(dy.data(), dx->data(), planes, s);
}

}  // namespace cutrain
