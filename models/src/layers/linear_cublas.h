// cuBLAS half of Linear (row-major tensors seen by column-major cuBLAS as their transposes).
#pragma once

#include "cutrain/context.h"
#include "cutrain/tensor.h"

namespace cutrain::detail {

void linear_forward_cublas(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& ones,
                           Tensor& y, Context& ctx);
void linear_backward_cublas(const Tensor& x, const Tensor& w, const Tensor& dy,
                            const Tensor& ones, Tensor& dw, Tensor& db, Tensor* dx, Context& ctx);

}  // namespace cutrain::detail
