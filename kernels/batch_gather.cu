// CUDA batch gather (one block per example, threads over its pixels) and the device epoch
// order (keys from batch_gather_math.h, then a CUB radix sort: stable, like the host sort).
#include <cub/device/device_radix_sort.cuh>

#include "batch_gather.h"
#include "cuda/check.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;

__global__ void gather_batch_kernel(const uint8_t* __restrict__ images,
                                    const uint8_t* __restrict__ labels,
                                    const int32_t* __restrict__ index, int64_t pixels,
                                    float* __restrict__ out_images, float* __restrict__ out_labels) {
  const int64_t i = blockIdx.x;
  const int64_t src = index ? index[i] : i;
  const uint8_t* in = images + src * pixels;
  float* out = out_images + i * pixels;
  for (int64_t p = threadIdx.x; p < pixels; p += blockDim.x) out[p] = pixel_to_float(in[p]);
  if (threadIdx.x == 0) out_labels[i] = static_cast<float>(labels[src]);
}

__global__ void shuffle_keys_kernel(uint64_t seed, uint64_t epoch, int64_t count,
                                    uint64_t* __restrict__ keys, int32_t* __restrict__ values) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keys[i] = shuffle_key(seed, epoch, static_cast<uint64_t>(i));
    values[i] = static_cast<int32_t>(i);
  }
}

size_t align_up(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Scratch layout: keys in | keys out | values in | CUB temp.
struct ShuffleScratch {
  size_t keys_bytes, values_bytes, temp_bytes;
  explicit ShuffleScratch(int64_t count)
      : keys_bytes(align_up(static_cast<size_t>(count) * sizeof(uint64_t))),
        values_bytes(align_up(static_cast<size_t>(count) * sizeof(int32_t))),
        temp_bytes(0) {
    CUTRAIN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        nullptr, temp_bytes, static_cast<const uint64_t*>(nullptr), static_cast<uint64_t*>(nullptr),
        static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr),
        static_cast<int>(count)));
    temp_bytes = align_up(temp_bytes);
  }
  size_t total() const { return 2 * keys_bytes + values_bytes + temp_bytes; }
};

}  // namespace

void launch_gather_batch(const uint8_t* images, const uint8_t* labels, const int32_t* index,
                         int64_t n, int64_t pixels, float* out_images, float* out_labels,
                         cudaStream_t stream) {
  if (n == 0) return;
  // At least one warp: the labels are gathered even when an example has no pixels.
  const int threads =
      pixels >= kThreads ? kThreads : 32 * static_cast<int>(pixels > 0 ? (pixels + 31) / 32 : 1);
  gather_batch_kernel<<<static_cast<unsigned>(n), threads, 0, stream>>>(
      images, labels, index, pixels, out_images, out_labels);
  CUTRAIN_CHECK_LAUNCH("gather_batch_kernel");
}

size_t shuffle_order_scratch_bytes(int64_t count) { return ShuffleScratch(count).total(); }

void launch_shuffle_order(uint64_t seed, uint64_t epoch, int64_t count, int32_t* order,
                          void* scratch, cudaStream_t stream) {
  if (count == 0) return;
  const ShuffleScratch layout(count);
  auto* base = static_cast<char*>(scratch);
  auto* keys_in = reinterpret_cast<uint64_t*>(base);
  auto* keys_out = reinterpret_cast<uint64_t*>(base + layout.keys_bytes);
  auto* values_in = reinterpret_cast<int32_t*>(base + 2 * layout.keys_bytes);
  void* temp = base + 2 * layout.keys_bytes + layout.values_bytes;
  const int64_t blocks = (count + kThreads - 1) / kThreads;
  shuffle_keys_kernel<<<static_cast<unsigned>(blocks < 4096 ? blocks : 4096), kThreads, 0,
                        stream>>>(seed, epoch, count, keys_in, values_in);
  CUTRAIN_CHECK_LAUNCH("shuffle_keys_kernel");
  size_t temp_bytes = layout.temp_bytes;
  CUTRAIN_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out,
                                                     values_in, order, static_cast<int>(count), 0,
                                                     64, stream));
}

}  // namespace cutrain::kernels
