#include "cutrain/models/activation.h"

#include "activation.h"
#include "cutrain/error.h"
#include "layers/activation_kind.h"

namespace cutrain {

using detail::to_kernel;

void ActivationLayer::forward(const Tensor& x, Tensor& y, Context& ctx) {
  if (ctx.is_cuda())
    kernels::launch_activation_forward(to_kernel(kind_), x.data(), y.data(), x.numel(),
                                       ctx.stream());
  else
    kernels::activation_forward_cpu(to_kernel(kind_), x.data(), y.data(), x.numel());
}

void ActivationLayer::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                               Context& ctx) {
  if (dx == nullptr) return;
  if (ctx.is_cuda())
    kernels::launch_activation_backward(to_kernel(kind_), x.data(), y.data(), dy.data(),
                                        dx->data(), x.numel(), ctx.stream());
  else
    kernels::activation_backward_cpu(to_kernel(kind_), x.data(), y.data(), dy.data(), dx->data(),
                                     x.numel());
}

Shape Flatten::build(const Shape& in, Device, Rng&) {
  if (in.size() < 2) throw ConfigError("Flatten: expected input [N, ...], got " + to_string(in));
  int64_t features = 1;
  for (size_t i = 1; i < in.size(); ++i) features *= in[i];
  return {in[0], features};
}

}  // namespace cutrain
