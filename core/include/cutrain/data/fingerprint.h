// A cheap content fingerprint of an ImageDataset, for caches keyed by where a data set lives
// (the device-resident input stage): a data set rebuilt at the same addresses, or changed in
// place, must not be mistaken for the one uploaded before.
#pragma once

#include <cstdint>

#include "cutrain/data/fashion_mnist.h"

namespace cutrain::data {

/// Image bytes sampled by dataset_fingerprint (evenly spaced over the whole image array).
constexpr int64_t kFingerprintImageSamples = 4096;

/// @brief 64-bit hash of the shape, every label and kFingerprintImageSamples image bytes spread
/// evenly over the images (all of them when there are fewer). Costs ~count + 4096 byte reads:
/// cheap enough for the start of every pass (Fashion-MNIST train: ~60 KB). A change that
/// touches only unsampled image bytes and no label goes unseen; any relabelling, resizing,
/// reordering of examples or whole-image transform (flip, noise, normalisation) is seen with
/// near certainty.
uint64_t dataset_fingerprint(const ImageDataset& data);

}  // namespace cutrain::data
