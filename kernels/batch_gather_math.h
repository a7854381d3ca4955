// Batch assembly from the raw dataset (uint8 pixels and labels), shared by the host loader, the
// CPU twin and the CUDA kernels so that every input path feeds the model the same bits:
//   pixel:  x = float(p) * (1 / 255)
//   label:  y = float(label)
// The epoch order is a sort of the examples by a random 64-bit key: key(i) = mix(seed, epoch, i)
// (splitmix64 finaliser over a counter, so any example's key is computed independently); ties
// keep index order. A sort by i.i.d. keys is a uniformly random permutation, and it can be
// computed where the data lives: std::sort on the host, a CUB radix sort on the device.
#pragma once

#include <cstdint>

#include "hd.h"

namespace cutrain::kernels {

CUTRAIN_HD float pixel_to_float(uint8_t p) { return static_cast<float>(p) * (1.0f / 255.0f); }

CUTRAIN_HD uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Sort key of example `index` in epoch `epoch` of a run seeded with `seed`.
CUTRAIN_HD uint64_t shuffle_key(uint64_t seed, uint64_t epoch, uint64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ epoch) + index);
}

}  // namespace cutrain::kernels
