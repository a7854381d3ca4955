// Global average pooling over each (n, c) plane of S = H*W values:
//   forward   y[p] = (1/S) sum_j x[p*S + j]
//   backward  dx[p*S + j] = dy[p] / S
// The sum has one fixed order on both devices: kGapLanes strided partial sums (lane l adds
// x[l], x[l + 32], ...), then a butterfly (lane l += lane l ^ 16, ^ 8, ^ 4, ^ 2, ^ 1), which is
// what one CUDA warp computes with __shfl_xor_sync; the CPU twin replays it, so both give the
// same bits.
#pragma once

#include <cstdint>

#include "hd.h"

namespace cutrain::kernels {

constexpr int kGapLanes = 32;

/// Partial sum of lane `lane` over a plane of s values.
CUTRAIN_HD float gap_lane_sum(const float* plane, int64_t s, int lane) {
  float acc = 0.0f;
  for (int64_t j = lane; j < s; j += kGapLanes) acc += plane[j];
  return acc;
}

/// The butterfly of the 32 lane sums, as lane 0 of a warp sees it (host side of the twin).
inline float gap_butterfly_host(float (&lanes)[kGapLanes]) {
  for (int offset = kGapLanes / 2; offset > 0; offset /= 2) {
    float next[kGapLanes];
    for (int l = 0; l < kGapLanes; ++l) next[l] = lanes[l] + lanes[l ^ offset];
    for (int l = 0; l < kGapLanes; ++l) lanes[l] = next[l];
  }
  return lanes[0];
}

CUTRAIN_HD float gap_backward_element(float dy, float inv_area) { return dy * inv_area; }

}  // namespace cutrain::kernels
