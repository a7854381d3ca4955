#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "batch_gather.h"

namespace cutrain::kernels {

void gather_batch_cpu(const uint8_t* images, const uint8_t* labels, const int32_t* index,
                      int64_t n, int64_t pixels, float* out_images, float* out_labels) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = index ? index[i] : i;
    const uint8_t* in = images + src * pixels;
    float* out = out_images + i * pixels;
    for (int64_t p = 0; p < pixels; ++p) out[p] = pixel_to_float(in[p]);
    out_labels[i] = static_cast<float>(labels[src]);
  }
}

void shuffle_order_cpu(uint64_t seed, uint64_t epoch, int64_t count, int64_t* order) {
  std::vector<std::pair<uint64_t, int64_t>> keyed(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    keyed[static_cast<size_t>(i)] = {shuffle_key(seed, epoch, static_cast<uint64_t>(i)), i};
  std::sort(keyed.begin(), keyed.end());  // (key, index): ties in index order, as a stable sort
  for (int64_t i = 0; i < count; ++i) order[i] = keyed[static_cast<size_t>(i)].second;
}

}  // namespace cutrain::kernels
