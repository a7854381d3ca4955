// Small generated image data sets for tests: each class lights one 6x6 square of a 28x28 image
// (plus noise), so a LeNet separates them within a few epochs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/data/fashion_mnist.h"
#include "cutrain/data/idx.h"
#include "cutrain/rng.h"

namespace cutrain::test {

inline data::ImageDataset separable_images(int64_t count, uint64_t seed) {
  data::ImageDataset d;
  d.count = count;
  d.channels = 1;
  d.height = d.width = 28;
  d.source = "synthetic";
  d.images.assign(static_cast<size_t>(count * 28 * 28), 0);
  d.labels.resize(static_cast<size_t>(count));
  Rng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int c = static_cast<int>(i % 10);
    d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(c);
    uint8_t* img = d.images.data() + i * 28 * 28;
    for (int p = 0; p < 28 * 28; ++p) img[p] = static_cast<uint8_t>(rng.below(60));
    const int top = (c / 5) * 12 + 4, left = (c % 5) * 5 + 1;
    for (int y = top; y < top + 6; ++y)
      for (int x = left; x < left + 6 && x < 28; ++x)
        img[y * 28 + x] = static_cast<uint8_t>(180 + rng.below(76));
  }
  return d;
}

/// Writes a data set as the four Fashion-MNIST IDX files (gzip) into `dir`.
inline void write_fashion_mnist_dir(const std::string& dir, const data::ImageDataset& train,
                                    const data::ImageDataset& test) {
  data::write_idx(dir + "/train-images-idx3-ubyte.gz", {train.count, 28, 28}, train.images, true);
  data::write_idx(dir + "/train-labels-idx1-ubyte.gz", {train.count}, train.labels, true);
  data::write_idx(dir + "/t10k-images-idx3-ubyte.gz", {test.count, 28, 28}, test.images, true);
  data::write_idx(dir + "/t10k-labels-idx1-ubyte.gz", {test.count}, test.labels, true);
}

}  // namespace cutrain::test
