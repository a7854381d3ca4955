// CUDA bilinear resize: one thread per output value (forward) or per input value (backward,
// gathered: see bilinear_resize_math.h), grid-stride loops over planes * rows * columns.
#include "bilinear_resize.h"
#include "cuda/check.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;

unsigned grid_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
}

__global__ void bilinear_resize_forward_kernel(ResizeDims d, const float* __restrict__ x,
                                               float* __restrict__ y) {
  const int64_t n = d.planes * d.ho * d.wo;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = i % d.wo, r = (i / d.wo) % d.ho, p = i / (d.wo * d.ho);
    y[i] = bilinear_forward_element(x + p * d.h * d.w, d.w, bilinear_tap(r, d.h, d.ho),
                                    bilinear_tap(c, d.w, d.wo));
  }
}

__global__ void bilinear_resize_backward_kernel(ResizeDims d, const float* __restrict__ dy,
                                                float* __restrict__ dx) {
  const int64_t n = d.planes * d.h * d.w;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = i % d.w, r = (i / d.w) % d.h, p = i / (d.w * d.h);
    dx[i] = bilinear_backward_element(dy + p * d.ho * d.wo, d.h, d.w, d.ho, d.wo, r, c);
  }
}

}  // namespace

void launch_bilinear_resize_forward(const ResizeDims& d, const float* x, float* y,
                                    cudaStream_t stream) {
  const int64_t n = d.planes * d.ho * d.wo;
  if (n == 0) return;
  bilinear_resize_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(d, x, y);
  CUTRAIN_CHECK_LAUNCH("bilinear_resize_forward_kernel");
}

void launch_bilinear_resize_backward(const ResizeDims& d, const float* dy, float* dx,
                                     cudaStream_t stream) {
  const int64_t n = d.planes * d.h * d.w;
  if (n == 0) return;
  bilinear_resize_backward_kernel<<<grid_for(n), kThreads, 0, stream>>>(d, dy, dx);
  CUTRAIN_CHECK_LAUNCH("bilinear_resize_backward_kernel");
}

}  // namespace cutrain::kernels
