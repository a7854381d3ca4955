// Device-side input pipeline ops (math in batch_gather_math.h):
//   gather:  out_images[i, :] = pixel_to_float(images[src(i), :]),  out_labels[i] = labels[src(i)]
//            with src(i) = index[i], or i when index is null (a batch already staged in order).
//   order:   order = argsort_i shuffle_key(seed, epoch, i) for i < count (stable), or the
//            identity when not shuffling: the same permutation data::BatchLoader computes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "batch_gather_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

void gather_batch_cpu(const uint8_t* images, const uint8_t* labels, const int32_t* index,
                      int64_t n, int64_t pixels, float* out_images, float* out_labels);
/// Host reference of the epoch order (what launch_shuffle_order computes on the device).
void shuffle_order_cpu(uint64_t seed, uint64_t epoch, int64_t count, int64_t* order);

void launch_gather_batch(const uint8_t* images, const uint8_t* labels, const int32_t* index,
                         int64_t n, int64_t pixels, float* out_images, float* out_labels,
                         cudaStream_t stream);

/// Device scratch launch_shuffle_order needs for `count` examples (keys, values, CUB temp).
size_t shuffle_order_scratch_bytes(int64_t count);
/// Writes the epoch order (int32 indices, count < 2^31) into `order` on the device. `scratch`:
/// shuffle_order_scratch_bytes(count) bytes, 16-byte aligned.
void launch_shuffle_order(uint64_t seed, uint64_t epoch, int64_t count, int32_t* order,
                          void* scratch, cudaStream_t stream);

}  // namespace cutrain::kernels
