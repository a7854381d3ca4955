// Batch normalization math shared by the CUDA kernels and their CPU twins
// (shared/reference/batchnorm.md, PyTorch's conventions). Per channel c, over its M = N*S values
// of x viewed as [N, C, S] (S = H*W; S = 1 for [N, C] input):
//   mean = sum(x) / M,  var = sum((x - mean)^2) / M (biased),  inv_std = 1 / sqrt(var + eps)
//   xhat = (x - mean) * inv_std,  y = gamma * xhat + beta        (fused ReLU: y = max(y, 0))
//   running_mean = (1 - m) running_mean + m mean
//   running_var  = (1 - m) running_var  + m var M / (M - 1)      (unbiased; m = momentum)
// Backward from dy (fused ReLU: dy = 0 where y <= 0 first), with the saved mean and inv_std:
//   dbeta = sum(dy),  dgamma = sum(dy xhat)
//   dx = gamma inv_std / M (M dy - dbeta - xhat dgamma)
//      = gamma inv_std (dy - dbeta / M - xhat dgamma / M)
// Statistics are never formed as E[x^2] - E[x]^2 (catastrophic cancellation in float when
// |mean| >> std): partial moments (count, mean, M2) are merged with Chan's formula.
#pragma once

#include <math.h>

#include "hd.h"

namespace cutrain::kernels {

/// Count, mean and sum of squared deviations (M2) of a set of values.
struct BnMoments {
  double count = 0.0, mean = 0.0, m2 = 0.0;
};

/// Moments of the union of two disjoint sets (Chan, Golub, LeVeque); either may be empty.
CUTRAIN_HD BnMoments bn_merge(const BnMoments& a, const BnMoments& b) {
  if (a.count == 0.0) return b;
  if (b.count == 0.0) return a;
  const double count = a.count + b.count, delta = b.mean - a.mean;
  BnMoments r;
  r.count = count;
  r.mean = a.mean + delta * (b.count / count);
  r.m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / count);
  return r;
}

/// Per-channel values the training forward writes: the saved statistics for backward and the
/// updated running averages.
struct BnChannelUpdate {
  float mean, inv_std, running_mean, running_var;
};

/// From a channel's batch moments (count >= 1) to its saved statistics and running averages.
/// A count of 1 uses the biased variance for the running update (the layer rejects it).
CUTRAIN_HD BnChannelUpdate bn_finalize(const BnMoments& m, double eps, double momentum,
                                       float running_mean, float running_var) {
  const double var = m.m2 / m.count;
  const double unbiased = m.count > 1.0 ? m.m2 / (m.count - 1.0) : var;
  BnChannelUpdate u;
  u.mean = static_cast<float>(m.mean);
  u.inv_std = static_cast<float>(1.0 / sqrt(var + eps));
  u.running_mean = static_cast<float>((1.0 - momentum) * running_mean + momentum * m.mean);
  u.running_var = static_cast<float>((1.0 - momentum) * running_var + momentum * unbiased);
  return u;
}

/// inv_std from a running variance (inference).
CUTRAIN_HD float bn_inv_std(float var, double eps) {
  return static_cast<float>(1.0 / sqrt(static_cast<double>(var) + eps));
}

CUTRAIN_HD float bn_xhat(float x, float mean, float inv_std) { return (x - mean) * inv_std; }

/// y = gamma * xhat + beta, then max(y, 0) when `relu`.
CUTRAIN_HD float bn_forward_element(float x, float mean, float inv_std, float gamma, float beta,
                                    bool relu) {
  const float y = gamma * bn_xhat(x, mean, inv_std) + beta;
  return relu && !(y > 0.0f) ? 0.0f : y;
}

/// dy as the normalization sees it: zero where the fused ReLU's output is not positive.
CUTRAIN_HD float bn_masked_dy(float dy, float y, bool relu) {
  return relu && !(y > 0.0f) ? 0.0f : dy;
}

/// dx = scale (dy - mean_dy - xhat mean_dy_xhat) with scale = gamma inv_std,
/// mean_dy = dbeta / M and mean_dy_xhat = dgamma / M (dy already masked). The product is rounded
/// on its own (mul_rn): nvcc could otherwise fuse it with the subtraction in one kernel and not
/// another, and the two batch-norm schedules must give the same bits (and round like the CPU).
CUTRAIN_HD float bn_backward_element(float dy, float xhat, float scale, float mean_dy,
                                     float mean_dy_xhat) {
  return scale * (dy - mean_dy - mul_rn(xhat, mean_dy_xhat));
}

}  // namespace cutrain::kernels
