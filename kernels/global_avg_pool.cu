// CUDA global average pooling. Forward: one warp per plane (lane sums, then the butterfly of
// global_avg_pool_math.h with __shfl_xor_sync), planes in a grid-stride loop. Backward: one
// thread per element.
#include "cuda/check.h"
#include "global_avg_pool.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / kGapLanes;
static_assert(kGapLanes == 32, "one warp per plane");

unsigned grid_for(int64_t units, int64_t per_block) {
  const int64_t blocks = (units + per_block - 1) / per_block;
  return static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
}

__global__ void global_avg_pool_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                               int64_t planes, int64_t s, float inv_area) {
  const int lane = threadIdx.x % kGapLanes;
  const int64_t warp = blockIdx.x * static_cast<int64_t>(kWarpsPerBlock) + threadIdx.x / kGapLanes;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t p = warp; p < planes; p += warps) {  // the whole warp takes the same trips
    float v = gap_lane_sum(x + p * s, s, lane);
    for (int offset = kGapLanes / 2; offset > 0; offset /= 2)
      v += __shfl_xor_sync(0xffffffffu, v, offset);
    if (lane == 0) y[p] = v * inv_area;
  }
}

__global__ void global_avg_pool_backward_kernel(const float* __restrict__ dy,
                                                float* __restrict__ dx, int64_t n, int64_t s,
                                                float inv_area) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dx[i] = gap_backward_element(dy[i / s], inv_area);
}

}  // namespace

void launch_global_avg_pool_forward(const float* x, float* y, int64_t planes, int64_t s,
                                    cudaStream_t stream) {
  if (planes == 0 || s == 0) return;
  global_avg_pool_forward_kernel<<<grid_for(planes, kWarpsPerBlock), kThreads, 0, stream>>>(
      x, y, planes, s, 1.0f / static_cast<float>(s));
  CUTRAIN_CHECK_LAUNCH("global_avg_pool_forward_kernel");
}

void launch_global_avg_pool_backward(const float* dy, float* dx, int64_t planes, int64_t s,
                                     cudaStream_t stream) {
  const int64_t n = planes * s;
  if (n == 0) return;
  global_avg_pool_backward_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(
      dy, dx, n, s, 1.0f / static_cast<float>(s));
  CUTRAIN_CHECK_LAUNCH("global_avg_pool_backward_kernel");
}

}  // namespace cutrain::kernels
