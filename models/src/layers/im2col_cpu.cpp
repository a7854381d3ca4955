#include "layers/im2col_cpu.h"

#include <algorithm>

namespace cutrain::detail {

void im2col_cpu(const float* image, const Im2colGeometry& g, float* cols) {
  const int64_t K = g.kernel, Ho = g.out_height, Wo = g.out_width;
  for (int64_t c = 0; c < g.channels; ++c) {
    const float* plane = image + c * g.height * g.width;
    for (int64_t u = 0; u < K; ++u) {
      for (int64_t v = 0; v < K; ++v) {
        float* row = cols + ((c * K + u) * K + v) * Ho * Wo;
        for (int64_t i = 0; i < Ho; ++i) {
          const int64_t y = i * g.stride - g.padding + u;
          float* out = row + i * Wo;
          if (y < 0 || y >= g.height) {
            std::fill(out, out + Wo, 0.0f);
            continue;
          }
          const float* src = plane + y * g.width;
          for (int64_t j = 0; j < Wo; ++j) {
            const int64_t x = j * g.stride - g.padding + v;
            out[j] = (x >= 0 && x < g.width) ? src[x] : 0.0f;
          }
        }
      }
    }
  }
}

void col2im_cpu(const float* cols, const Im2colGeometry& g, float* image) {
  const int64_t K = g.kernel, Ho = g.out_height, Wo = g.out_width;
  std::fill(image, image + g.channels * g.height * g.width, 0.0f);
  for (int64_t c = 0; c < g.channels; ++c) {
    float* plane = image + c * g.height * g.width;
    for (int64_t u = 0; u < K; ++u) {
      for (int64_t v = 0; v < K; ++v) {
        const float* row = cols + ((c * K + u) * K + v) * Ho * Wo;
        for (int64_t i = 0; i < Ho; ++i) {
          const int64_t y = i * g.stride - g.padding + u;
          if (y < 0 || y >= g.height) continue;
          float* dst = plane + y * g.width;
          const float* in = row + i * Wo;
          for (int64_t j = 0; j < Wo; ++j) {
            const int64_t x = j * g.stride - g.padding + v;
            if (x >= 0 && x < g.width) dst[x] += in[j];
          }
        }
      }
    }
  }
}

}  // namespace cutrain::detail
