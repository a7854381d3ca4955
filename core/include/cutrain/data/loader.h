// BatchLoader: turns an ImageDataset into minibatches: a per-epoch permutation derived from
// (seed, epoch) alone (so a resumed run shuffles as the uninterrupted one would; a sort by
// random keys, kernels/batch_gather_math.h, that the device can compute too), the last partial
// batch kept, pixels scaled to [0, 1].
#pragma once

#include <cstdint>
#include <vector>

#include "cutrain/data/fashion_mnist.h"

namespace cutrain::data {

class BatchLoader {
 public:
  /// @param limit use only the first `limit` examples (0 = all)
  /// @param drop_last leave out the last partial batch of each epoch (which examples fall
  ///        there changes with the shuffle), so every batch has batch_size examples
  BatchLoader(const ImageDataset& data, int64_t batch_size, bool shuffle, uint64_t seed,
              int64_t limit = 0, bool drop_last = false);

  /// Fixes the example order for `epoch` (identity when not shuffling). The host computes it
  /// on first use (order(), fill(), fill_raw()): --data-on-device computes the same permutation
  /// on the device and never asks, so its epochs do not wait for a host sort. Not for
  /// concurrent first use from several threads.
  void start_epoch(int64_t epoch);
  int64_t size() const { return size_; }
  int64_t batch_size() const { return batch_size_; }
  int64_t batches() const {
    return drop_last_ ? size_ / batch_size_ : (size_ + batch_size_ - 1) / batch_size_;
  }
  /// Examples an epoch delivers: size(), less the dropped remainder with drop_last.
  int64_t epoch_examples() const { return drop_last_ ? batches() * batch_size_ : size_; }
  /// Examples in batch b (batch_size, or the remainder for the last one).
  int64_t batch_examples(int64_t b) const;
  /// Writes batch b: images [n, C, H, W] as floats in [0, 1] and labels [n] as floats.
  /// Returns n.
  int64_t fill(int64_t b, float* images, float* labels) const;
  /// Writes batch b as the dataset stores it (uint8 pixels and labels), for staging buffers that
  /// the device converts. Returns n.
  int64_t fill_raw(int64_t b, uint8_t* images, uint8_t* labels) const;
  const std::vector<int64_t>& order() const;
  /// The epoch of the last start_epoch (-1 before any).
  int64_t epoch() const { return epoch_; }
  bool shuffles() const { return shuffle_; }
  uint64_t seed() const { return seed_; }
  const ImageDataset& dataset() const { return data_; }

 private:
  const ImageDataset& data_;
  int64_t batch_size_, size_;
  bool shuffle_, drop_last_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  // The permutation of epoch `order_epoch_` (the identity while it is -1), made on demand.
  mutable std::vector<int64_t> order_;
  mutable int64_t order_epoch_ = -1;
};

}  // namespace cutrain::data
