// CUDA residual sum (+ReLU): a grid-stride loop over the math of add_math.h. No __restrict__:
// the outputs may alias the inputs (see add.h).
#include "add.h"
#include "cuda/check.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
}

__global__ void add_forward_kernel(const float* a, const float* b, float* y, int64_t n, bool relu) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = add_forward_element(a[i], b[i], relu);
}

__global__ void add_backward_kernel(const float* y, const float* dy, float* dab, int64_t n,
                                    bool relu) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dab[i] = add_backward_element(relu ? y[i] : 0.0f, dy[i], relu);
}

}  // namespace

void launch_add_forward(const float* a, const float* b, float* y, int64_t n, bool relu,
                        cudaStream_t stream) {
  if (n == 0) return;
  add_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(a, b, y, n, relu);
  CUTRAIN_CHECK_LAUNCH("add_forward_kernel");
}

void launch_add_backward(const float* y, const float* dy, float* dab, int64_t n, bool relu,
                         cudaStream_t stream) {
  if (n == 0) return;
  add_backward_kernel<<<grid_for(n), kThreads, 0, stream>>>(y, dy, dab, n, relu);
  CUTRAIN_CHECK_LAUNCH("add_backward_kernel");
}

}  // namespace cutrain::kernels
