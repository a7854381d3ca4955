#include <cstddef>
#include <vector>

#include "bilinear_resize.h"

namespace cutrain::kernels {

void bilinear_resize_forward_cpu(const ResizeDims& d, const float* x, float* y) {
  // The taps depend on the output row / column only: computed once per call.
  std::vector<BilinearTap> rows(static_cast<size_t>(d.ho)), cols(static_cast<size_t>(d.wo));
  for (int64_t o = 0; o < d.ho; ++o) rows[o] = bilinear_tap(o, d.h, d.ho);
  for (int64_t o = 0; o < d.wo; ++o) cols[o] = bilinear_tap(o, d.w, d.wo);
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < d.planes; ++p) {
    const float* in = x + p * d.h * d.w;
    float* out = y + p * d.ho * d.wo;
    for (int64_t r = 0; r < d.ho; ++r)
      for (int64_t c = 0; c < d.wo; ++c)
        out[r * d.wo + c] = bilinear_forward_element(in, d.w, rows[r], cols[c]);
  }
}

void bilinear_resize_backward_cpu(const ResizeDims& d, const float* dy, float* dx) {
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < d.planes; ++p) {
    const float* g = dy + p * d.ho * d.wo;
    float* out = dx + p * d.h * d.w;
    for (int64_t r = 0; r < d.h; ++r)
      for (int64_t c = 0; c < d.w; ++c)
        out[r * d.w + c] = bilinear_backward_element(g, d.h, d.w, d.ho, d.wo, r, c);
  }
}

}  // namespace cutrain::kernels
