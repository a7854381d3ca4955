// Row-major X [n, in], W [out, in], Y [n, out] are, to column-major cuBLAS, X^T [in, n],
// W^T [in, out] and Y^T [out, n]. So:
//   Y^T  = W X^T          -> gemm(T, N, out, n, in)   (after Y^T = b 1^T, a rank-1 GEMM)
//   dX^T = W^T dY^T       -> gemm(N, N, in, n, out)
//   dW^T = X^T dY         -> gemm(N, T, in, out, n)
//   db   = dY^T 1         -> gemv(N, out, n)
#include "layers/linear_cublas.h"

#include "context_impl.h"
#include "cuda/blas_dnn_check.h"

namespace cutrain::detail {

void linear_forward_cublas(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& ones,
                           Tensor& y, Context& ctx) {
  cublasHandle_t h = cublas_handle(ctx);
  const int n = static_cast<int>(x.dim(0)), in = static_cast<int>(x.dim(1)),
            out = static_cast<int>(y.dim(1));
  const float one = 1.0f, zero = 0.0f;
  CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, out, n, 1, &one, b.data(), out,
                                   ones.data(), 1, &zero, y.data(), out));
  CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w.data(), in,
                                   x.data(), in, &one, y.data(), out));
}

void linear_backward_cublas(const Tensor& x, const Tensor& w, const Tensor& dy,
                            const Tensor& ones, Tensor& dw, Tensor& db, Tensor* dx, Context& ctx) {
  cublasHandle_t h = cublas_handle(ctx);
  const int n = static_cast<int>(x.dim(0)), in = static_cast<int>(x.dim(1)),
            out = static_cast<int>(dy.dim(1));
  const float one = 1.0f, zero = 0.0f;
  CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x.data(), in,
                                   dy.data(), out, &zero, dw.data(), in));
  CUTRAIN_CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, out, n, &one, dy.data(), out, ones.data(), 1,
                                   &zero, db.data(), 1));
  if (dx != nullptr)
    CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w.data(), in,
                                     dy.data(), out, &zero, dx->data(), in));
}

}  // namespace cutrain::detail
