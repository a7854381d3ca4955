// CUDA side of channel_bias_activation.h: a grid-stride loop forward; backward one launch of
// (split x channels) blocks whose last finisher per channel adds the partial sums in order.
#include <cub/block/block_reduce.cuh>

#include "channel_bias_activation.h"
#include "cuda/check.h"
#include "cutrain/error.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kValuesPerBlock = 8192;  // backward: enough work per block to hide latency
constexpr int64_t kMaxSplit = 128;

// Blocks per channel in backward: grows with the values of a channel, bounded.
int split_of(const ChannelDims& d) {
  const int64_t s = (d.n * d.hw + kValuesPerBlock - 1) / kValuesPerBlock;
  return static_cast<int>(s < 1 ? 1 : (s > kMaxSplit ? kMaxSplit : s));
}

__global__ void bias_activation_forward_kernel(Activation a, ChannelDims d,
                                               const float* __restrict__ bias, float* y) {
  const int64_t per_image = d.channels * d.hw, total = d.n * per_image;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = e / per_image, r = e - i * per_image;
    float* p = y + i * d.stride + r;
    *p = activation_forward(a, *p + bias[r / d.hw]);
  }
}

// g may be dy: no __restrict__ on either.
__global__ void activation_bias_backward_kernel(Activation a, ChannelDims d, int split,
                                                const float* __restrict__ y, const float* dy,
                                                float* g, float* __restrict__ db,
                                                float* partials, unsigned* counters) {
  const int64_t c = blockIdx.y;
  const int s = static_cast<int>(blockIdx.x);
  const int64_t len = d.n * d.hw;
  const int64_t begin = len * s / split, end = len * (s + 1) / split;
  float sum = 0.0f;
  for (int64_t e = begin + threadIdx.x; e < end; e += blockDim.x) {
    const int64_t i = e / d.hw;
    const int64_t k = i * d.stride + c * d.hw + (e - i * d.hw);
    const float v = activation_backward_from_output(a, y[k], dy[k]);
    g[k] = v;
    sum += v;
  }
  using Reduce = cub::BlockReduce<float, kThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  __shared__ bool last;
  const float block_sum = Reduce(tmp).Sum(sum);
  if (threadIdx.x == 0) {
    partials[c * split + s] = block_sum;
    __threadfence();  // the partial is visible device-wide before the count says it is there
    last = atomicAdd(&counters[c], 1u) == static_cast<unsigned>(split - 1);
  }
  __syncthreads();
  if (last && threadIdx.x == 0) {
    __threadfence();  // order the reads of the partials after the count
    double total = 0.0;
    for (int k = 0; k < split; ++k) total += __ldcg(&partials[c * split + k]);  // not via L1
    db[c] = static_cast<float>(total);
    counters[c] = 0u;  // ready for the next launch or graph replay
  }
}

}  // namespace

int64_t activation_bias_backward_partials(const ChannelDims& d) {
  return d.channels * split_of(d);
}

void launch_bias_activation_forward(Activation a, const ChannelDims& d, const float* bias,
                                    float* y, cudaStream_t stream) {
  const int64_t total = d.n * d.channels * d.hw;
  if (total == 0) return;
  const int64_t blocks = (total + kThreads - 1) / kThreads;
  const auto grid = static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
  bias_activation_forward_kernel<<<grid, kThreads, 0, stream>>>(a, d, bias, y);
  CUTRAIN_CHECK_LAUNCH("bias_activation_forward_kernel");
}

void launch_activation_bias_backward(Activation a, const ChannelDims& d, const float* y,
                                     const float* dy, float* g, float* db, float* partials,
                                     unsigned* counters, cudaStream_t stream) {
  if (d.channels == 0) return;
  if (d.channels > 65535) throw ConfigError("activation_bias_backward: more than 65535 channels");
  const int split = split_of(d);
  const dim3 grid(static_cast<unsigned>(split), static_cast<unsigned>(d.channels));
  activation_bias_backward_kernel<<<grid, kThreads, 0, stream>>>(a, d, split, y, dy, g, db,
                                                                 partials, counters);
  CUTRAIN_CHECK_LAUNCH("activation_bias_backward_kernel");
}

}  // namespace cutrain::kernels
