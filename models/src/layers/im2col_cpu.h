// im2col / col2im for one image (CPU). cols has C*K*K rows and Ho*Wo columns:
//   cols[(c*K + u)*K + v][i*Wo + j] = x[c][i*s - p + u][j*s - p + v]   (0 outside the image)
// col2im is its adjoint: it adds every column entry back to the pixel it came from.
#pragma once

#include <cstdint>

namespace cutrain::detail {

struct Im2colGeometry {
  int64_t channels, height, width, kernel, stride, padding, out_height, out_width;
};

void im2col_cpu(const float* image, const Im2colGeometry& g, float* cols);
/// Overwrites `image` (C*H*W floats) with the adjoint of im2col applied to `cols`.
void col2im_cpu(const float* cols, const Im2colGeometry& g, float* image);

}  // namespace cutrain::detail
