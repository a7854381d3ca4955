// Bilinear resize of planes [H, W] -> [Ho, Wo] with align_corners = False, as PyTorch's
// F.interpolate(mode="bilinear") computes it. Per axis, output index o reads
//   src = max(0, (o + 0.5) * in / out - 0.5),  i0 = min(floor(src), in - 1),
//   i1 = i0 + (i0 < in - 1),  w1 = src - i0,  w0 = 1 - w1
// and y[o_r][o_c] = wr0 (wc0 x[r0][c0] + wc1 x[r0][c1]) + wr1 (wc0 x[r1][c0] + wc1 x[r1][c1]).
// Backward (the adjoint) gathers instead of scattering, so it needs no atomics:
//   dx[r][c] = sum over output rows o_r and columns o_c whose taps touch (r, c) of
//              weight_r(o_r, r) weight_c(o_c, c) dy[o_r][o_c]
// where weight(o, i) = (i0 == i ? w0 : 0) + (i1 == i ? w1 : 0). The outputs touching input
// index i lie in bilinear_touching(i): a slightly wider range, filtered by the weight test.
#pragma once

#include <cstdint>

#include "hd.h"

namespace cutrain::kernels {

struct BilinearTap {
  int64_t i0, i1;
  float w0, w1;
};

CUTRAIN_HD BilinearTap bilinear_tap(int64_t o, int64_t in, int64_t out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  // mul_rn: an FMA here would move src (and so w1) by an ulp on the GPU only.
  float src = mul_rn(scale, static_cast<float>(o) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  int64_t i0 = static_cast<int64_t>(src);
  if (i0 > in - 1) i0 = in - 1;
  BilinearTap t;
  t.i0 = i0;
  t.i1 = i0 + (i0 < in - 1 ? 1 : 0);
  float w1 = src - static_cast<float>(i0);
  w1 = w1 < 0.0f ? 0.0f : (w1 > 1.0f ? 1.0f : w1);
  t.w1 = w1;
  t.w0 = 1.0f - w1;
  return t;
}

/// The weight with which output index o reads input index i (0 when it does not).
CUTRAIN_HD float bilinear_weight(const BilinearTap& t, int64_t i) {
  return (t.i0 == i ? t.w0 : 0.0f) + (t.i1 == i ? t.w1 : 0.0f);
}

/// Output indices [*lo, *hi) that may read input index i (a superset; see bilinear_weight).
CUTRAIN_HD void bilinear_touching(int64_t i, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  // o reads i only if i - 1 <= src(o) < i + 1, i.e. (i - 0.5) out/in - 0.5 <= o <
  // (i + 1.5) out/in - 0.5; two indices of margin absorb float rounding and the clamps.
  const float inv = static_cast<float>(out) / static_cast<float>(in);
  int64_t a = static_cast<int64_t>((static_cast<float>(i) - 0.5f) * inv - 0.5f) - 2;
  int64_t b = static_cast<int64_t>((static_cast<float>(i) + 1.5f) * inv - 0.5f) + 3;
  if (i == 0) a = 0;         // clamped sources (src < 0) all read index 0
  if (i == in - 1) b = out;  // and the last index is read up to the end
  *lo = a < 0 ? 0 : a;
  *hi = b > out ? out : b;
}

/// One output value of one plane.
CUTRAIN_HD float bilinear_forward_element(const float* plane, int64_t w, const BilinearTap& r,
                                          const BilinearTap& c) {
  const float top = c.w0 * plane[r.i0 * w + c.i0] + c.w1 * plane[r.i0 * w + c.i1];
  const float bottom = c.w0 * plane[r.i1 * w + c.i0] + c.w1 * plane[r.i1 * w + c.i1];
  return r.w0 * top + r.w1 * bottom;
}

/// One input gradient value (r, c) of one plane, gathered from dy [ho, wo] (fixed order: output
/// rows ascending, then columns ascending).
CUTRAIN_HD float bilinear_backward_element(const float* dy_plane, int64_t h, int64_t w, int64_t ho,
                                           int64_t wo, int64_t r, int64_t c) {
  int64_t r_lo, r_hi, c_lo, c_hi;
  bilinear_touching(r, h, ho, &r_lo, &r_hi);
  bilinear_touching(c, w, wo, &c_lo, &c_hi);
  float acc = 0.0f;
  for (int64_t orow = r_lo; orow < r_hi; ++orow) {
    const float wr = bilinear_weight(bilinear_tap(orow, h, ho), r);
    if (wr == 0.0f) continue;
    float row = 0.0f;
    for (int64_t ocol = c_lo; ocol < c_hi; ++ocol) {
      const float wc = bilinear_weight(bilinear_tap(ocol, w, wo), c);
      if (wc != 0.0f) row += wc * dy_plane[orow * wo + ocol];
    }
    acc += wr * row;
  }
  return acc;
}

}  // namespace cutrain::kernels
