// CUDA side of the global-norm clip: per-chunk sums of squares, then one block combines them.
#include <cub/block/block_reduce.cuh>

#include "cuda/check.h"
#include "grad_norm.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;
using Reduce = cub::BlockReduce<double, kThreads>;

__global__ void chunk_sq_norm_kernel(const TensorChunk* __restrict__ table,
                                     float* __restrict__ partials) {
  __shared__ typename Reduce::TempStorage tmp;
  const TensorChunk c = table[blockIdx.x];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < c.length; i += kThreads) {
    const double g = c.grad[i];
    sum += g * g;
  }
  const double total = Reduce(tmp).Sum(sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = static_cast<float>(total);
}

__global__ void clip_scale_kernel(const float* __restrict__ partials, int64_t chunks,
                                  float max_norm, StepState* __restrict__ state) {
  __shared__ typename Reduce::TempStorage tmp;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < chunks; i += kThreads) sum += partials[i];
  const double total = Reduce(tmp).Sum(sum);
  if (threadIdx.x == 0) {
    const float norm = static_cast<float>(sqrt(total));
    state->grad_norm = norm;
    state->grad_scale = fminf(1.0f, max_norm / (norm + 1e-6f));
  }
}

}  // namespace

void launch_clip_grad_norm(const TensorChunk* table, int64_t chunks, float max_norm,
                           float* partials, StepState* state, cudaStream_t stream) {
  if (chunks == 0) return;
  chunk_sq_norm_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(table, partials);
  CUTRAIN_CHECK_LAUNCH("chunk_sq_norm_kernel");
  clip_scale_kernel<<<1, kThreads, 0, stream>>>(partials, chunks, max_norm, state);
  CUTRAIN_CHECK_LAUNCH("clip_scale_kernel");
}

}  // namespace cutrain::kernels
