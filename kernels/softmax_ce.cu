// CUDA side of the fused softmax-cross-entropy: one thread per row (classes is small: 10 for
// Fashion-MNIST), then one block sums the rows with CUB in a fixed order (deterministic).
#include <cub/block/block_reduce.cuh>

#include "cuda/check.h"
#include "softmax_ce.h"
#include "softmax_ce_math.h"

namespace cutrain::kernels {
namespace {

constexpr int kRowThreads = 128;
constexpr int kSumThreads = 256;

__global__ void softmax_ce_rows_kernel(const float* __restrict__ logits,
                                       const float* __restrict__ labels, int64_t n, int classes,
                                       float grad_scale, float* __restrict__ dlogits,
                                       float* __restrict__ row_loss, float* __restrict__ row_hit) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const SoftmaxCeRow r =
      softmax_ce_row(logits + i * classes, classes, label_index(labels[i], classes), grad_scale,
                     dlogits ? dlogits + i * classes : nullptr);
  row_loss[i] = r.loss;
  row_hit[i] = r.correct;
}

__global__ void softmax_ce_sum_kernel(const float* __restrict__ row_loss,
                                      const float* __restrict__ row_hit, int64_t n,
                                      float* __restrict__ sums) {
  using Reduce = cub::BlockReduce<double, kSumThreads>;
  __shared__ typename Reduce::TempStorage tmp;
  double loss = 0.0, hits = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kSumThreads) {
    loss += row_loss[i];
    hits += row_hit[i];
  }
  const double total_loss = Reduce(tmp).Sum(loss);
  __syncthreads();  // tmp is reused
  const double total_hits = Reduce(tmp).Sum(hits);
  if (threadIdx.x == 0) {
    sums[0] = static_cast<float>(total_loss);
    sums[1] = static_cast<float>(total_hits);
  }
}

}  // namespace

void launch_softmax_ce(const float* logits, const float* labels, int64_t n, int classes,
                       float grad_scale, float* dlogits, float* row_scratch, float* sums,
                       cudaStream_t stream) {
  if (n == 0) {  // an empty batch still writes its (0, 0) slot
    CUTRAIN_CUDA_CHECK(cudaMemsetAsync(sums, 0, 2 * sizeof(float), stream));
    return;
  }
  const unsigned blocks = static_cast<unsigned>((n + kRowThreads - 1) / kRowThreads);
  softmax_ce_rows_kernel<<<blocks, kRowThreads, 0, stream>>>(
      logits, labels, n, classes, grad_scale, dlogits, row_scratch, row_scratch + n);
  CUTRAIN_CHECK_LAUNCH("softmax_ce_rows_kernel");
  softmax_ce_sum_kernel<<<1, kSumThreads, 0, stream>>>(row_scratch, row_scratch + n, n, sums);
  CUTRAIN_CHECK_LAUNCH("softmax_ce_sum_kernel");
}

}  // namespace cutrain::kernels
