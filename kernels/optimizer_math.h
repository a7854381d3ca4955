// Per-element update rules of the fused optimizers (shared/reference/optimizers.md), shared by
// the CUDA kernel and the CPU twin. x: parameter, g: gradient (already clipped and, except for
// AdamW, with L2 decay folded in: g += wd * x), eta: learning rate of this parameter group,
// t: step number starting at 1. State s0/s1 per rule:
//   sgd        x -= eta g
//   momentum   v = b1 v + g;  x -= eta v                                     (s0 = v)
//   nesterov   v = b1 v + g;  x -= eta (g + b1 v)                            (s0 = v)
//   adagrad    s += g^2;  x -= eta g / sqrt(s + eps)                         (s0 = s)
//   rmsprop    s = b2 s + (1-b2) g^2;  x -= eta g / sqrt(s + eps)           (s0 = s; b2 = gamma)
//   adadelta   s = b2 s + (1-b2) g^2;  g' = sqrt(d + eps) / sqrt(s + eps) g;  x -= eta g';
//              d = b2 d + (1-b2) g'^2                                        (s0 = s, s1 = d; b2 = rho)
//   adam       v = b1 v + (1-b1) g;  s = b2 s + (1-b2) g^2;
//              x -= eta (v / (1-b1^t)) / (sqrt(s / (1-b2^t)) + eps)          (s0 = v, s1 = s)
//   adamw      x -= eta wd x, then adam (decay decoupled from the gradient)
//   yogi       as adam with s = s + (1-b2) g^2 sign(g^2 - s)
#pragma once

#include <math.h>
#include <stdint.h>

#include "hd.h"

namespace cutrain::kernels {

enum class OptimizerRule : int32_t {
  Sgd, Momentum, Nesterov, Adagrad, RmsProp, Adadelta, Adam, AdamW, Yogi
};

/// Hyperparameters fixed for an optimizer's life (kernel argument, by value).
struct RuleConstants {
  float beta1 = 0.9f;  ///< momentum / adam b1
  float beta2 = 0.999f;  ///< adam b2, rmsprop gamma, adadelta rho
  float eps = 1e-6f;
};

/// Values that change every step; they live in memory the kernel reads (device memory on
/// CUDA), so a captured CUDA graph replays with the current ones.
struct StepState {
  float lr = 0.0f;          ///< base learning rate (groups multiply it)
  float grad_scale = 1.0f;  ///< clipping factor, written on the device by the norm kernel
  int32_t step = 0;         ///< t of the update being applied (1 for the first)
  float grad_norm = 0.0f;   ///< global L2 norm of the gradients, when clipping measured it
};

/// Start of an update, on the device inside the step (so a replayed CUDA graph advances t):
/// t <- t + 1, no clipping unless the norm kernel then says otherwise.
CUTRAIN_HD void begin_step(StepState& s) {
  s.step += 1;
  s.grad_scale = 1.0f;
}

/// Bias corrections 1 - b^t for Adam-style rules, in double: device powf is not correctly
/// rounded, and 1 - b2^t (~1e-3 at t = 1 for b2 = 0.999) would magnify its error a
/// thousandfold; in double both sides round the same value to float. Computed once per chunk.
CUTRAIN_HD float bias_correction(float beta, int32_t t) {
  return static_cast<float>(1.0 - pow(static_cast<double>(beta), static_cast<double>(t)));
}

struct ElementContext {
  RuleConstants k;
  float eta;  ///< group learning rate
  float wd;   ///< group weight decay
  float bc1, bc2;
};

template <OptimizerRule R>
CUTRAIN_HD void update_element(const ElementContext& c, float& x, float g, float& s0, float& s1) {
  if constexpr (R != OptimizerRule::AdamW) g += c.wd * x;  // L2 folded into the gradient
  if constexpr (R == OptimizerRule::Sgd) {
    x -= c.eta * g;
  } else if constexpr (R == OptimizerRule::Momentum) {
    s0 = c.k.beta1 * s0 + g;
    x -= c.eta * s0;
  } else if constexpr (R == OptimizerRule::Nesterov) {
    s0 = c.k.beta1 * s0 + g;
    x -= c.eta * (g + c.k.beta1 * s0);
  } else if constexpr (R == OptimizerRule::Adagrad) {
    s0 += g * g;
    x -= c.eta * g / sqrtf(s0 + c.k.eps);
  } else if constexpr (R == OptimizerRule::RmsProp) {
    s0 = c.k.beta2 * s0 + (1.0f - c.k.beta2) * g * g;
    x -= c.eta * g / sqrtf(s0 + c.k.eps);
  } else if constexpr (R == OptimizerRule::Adadelta) {
    s0 = c.k.beta2 * s0 + (1.0f - c.k.beta2) * g * g;
    const float step = sqrtf(s1 + c.k.eps) / sqrtf(s0 + c.k.eps) * g;
    x -= c.eta * step;
    s1 = c.k.beta2 * s1 + (1.0f - c.k.beta2) * step * step;
  } else {  // Adam, AdamW, Yogi
    if constexpr (R == OptimizerRule::AdamW) x -= c.eta * c.wd * x;
    s0 = c.k.beta1 * s0 + (1.0f - c.k.beta1) * g;
    const float g2 = g * g;
    if constexpr (R == OptimizerRule::Yogi) {
      const float d = g2 - s1;
      s1 += (1.0f - c.k.beta2) * g2 * static_cast<float>((d > 0.0f) - (d < 0.0f));
    } else {
      s1 = c.k.beta2 * s1 + (1.0f - c.k.beta2) * g2;
    }
    x -= c.eta * (s0 / c.bc1) / (sqrtf(s1 / c.bc2) + c.k.eps);
  }
}

/// How many state tensors each rule keeps.
CUTRAIN_HD_CONSTEXPR int state_tensors(OptimizerRule r) {
  return r == OptimizerRule::Sgd                                   ? 0
         : (r == OptimizerRule::Momentum || r == OptimizerRule::Nesterov ||
            r == OptimizerRule::Adagrad || r == OptimizerRule::RmsProp) ? 1
                                                                   : 2;
}

}  // namespace cutrain::kernels
