// CUDA side of the element-wise activations: a grid-stride loop over the same math as the CPU.
#include "activation.h"
#include "cuda/check.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
}

// x may be y (in place, as Linear applies an absorbed activation): no __restrict__.
__global__ void activation_forward_kernel(Activation a, const float* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = activation_forward(a, x[i]);
}

// x may be y (the mask from the output, as absorbed activations use it).
__global__ void activation_backward_kernel(Activation a, const float* x, const float* y,
                                           const float* __restrict__ dy, float* __restrict__ dx,
                                           int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = activation_backward(a, x[i], y[i], dy[i]);
}

}  // namespace

void launch_activation_forward(Activation a, const float* x, float* y, int64_t n,
                               cudaStream_t stream) {
  if (n == 0) return;
  activation_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(a, x, y, n);
  CUTRAIN_CHECK_LAUNCH("activation_forward_kernel");
}

void launch_activation_backward(Activation a, const float* x, const float* y, const float* dy,
                                float* dx, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  activation_backward_kernel<<<grid_for(n), kThreads, 0, stream>>>(a, x, y, dy, dx, n);
  CUTRAIN_CHECK_LAUNCH("activation_backward_kernel");
}

}  // namespace cutrain::kernels
