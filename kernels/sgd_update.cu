// CUDA side of multi-tensor SGD: block b updates chunk b of the table.
#include "cuda/check.h"
#include "sgd_math.h"
#include "sgd_update.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 512;

__global__ void sgd_update_kernel(const TensorChunk* __restrict__ table,
                                  const float* __restrict__ lr) {
  const TensorChunk chunk = table[blockIdx.x];
  const float eta = *lr;
  for (int64_t i = threadIdx.x; i < chunk.length; i += kThreads)
    chunk.param[i] = sgd_update(chunk.param[i], chunk.grad[i], eta);
}

}  // namespace

void launch_sgd_update(const TensorChunk* device_table, int64_t chunks, const float* device_lr,
                       cudaStream_t stream) {
  // Grid x may hold 2^31-1 blocks: far more chunks than any model has.
  if (chunks == 0) return;
  sgd_update_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(device_table,
                                                                             device_lr);
  CUTRAIN_CHECK_LAUNCH("sgd_update_kernel");
}

}  // namespace cutrain::kernels
