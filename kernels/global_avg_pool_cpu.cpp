#include "global_avg_pool.h"

namespace cutrain::kernels {

void global_avg_pool_forward_cpu(const float* x, float* y, int64_t planes, int64_t s) {
  if (s == 0) return;  // an empty plane has no mean; the CUDA launcher writes nothing either
  const float inv_area = 1.0f / static_cast<float>(s);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p) {
    float lanes[kGapLanes];
    for (int l = 0; l < kGapLanes; ++l) lanes[l] = gap_lane_sum(x + p * s, s, l);
    y[p] = gap_butterfly_host(lanes) * inv_area;
  }
}

void global_avg_pool_backward_cpu(const float* dy, float* dx, int64_t planes, int64_t s) {
  const float inv_area = 1.0f / static_cast<float>(s);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t j = 0; j < s; ++j) dx[p * s + j] = gap_backward_element(dy[p], inv_area);
}

}  // namespace cutrain::kernels
