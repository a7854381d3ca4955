#include "cutrain/data/loader.h"

#include <cstring>
#include <numeric>

#include "cutrain/error.h"
#include "batch_gather.h"

namespace cutrain::data {

BatchLoader::BatchLoader(const ImageDataset& data, int64_t batch_size, bool shuffle,
                         uint64_t seed, int64_t limit, bool drop_last)
    : data_(data), batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last), seed_(seed) {
  if (batch_size <= 0)
    throw ConfigError("--batch-size: expected a positive number, got " +
                      std::to_string(batch_size));
  if (limit < 0) throw ConfigError("--train-limit: expected >= 0, got " + std::to_string(limit));
  if (data.count < 0 || data.images.size() != static_cast<size_t>(data.count * data.image_size()) ||
      data.labels.size() != static_cast<size_t>(data.count))
    throw ConfigError(data.source + ": " + std::to_string(data.count) + " examples of " +
                      std::to_string(data.image_size()) + " pixels need " +
                      std::to_string(data.count * data.image_size()) + " image bytes and " +
                      std::to_string(data.count) + " labels; got " +
                      std::to_string(data.images.size()) + " and " +
                      std::to_string(data.labels.size()));
  size_ = limit > 0 ? std::min(limit, data.count) : data.count;
  if (size_ == 0) throw ConfigError(data.source + ": no examples");
  if (drop_last && size_ < batch_size)
    throw ConfigError("--drop-last: " + data.source + " has " + std::to_string(size_) +
                      " examples to train on, not one full batch of " +
                      std::to_string(batch_size));
  order_.resize(static_cast<size_t>(size_));
  std::iota(order_.begin(), order_.end(), int64_t{0});
}

void BatchLoader::start_epoch(int64_t epoch) {
  if (epoch < 0) throw ConfigError("BatchLoader: epoch must be >= 0, got " + std::to_string(epoch));
  epoch_ = epoch;
}

const std::vector<int64_t>& BatchLoader::order() const {
  if (shuffle_ && epoch_ >= 0 && order_epoch_ != epoch_) {
    // A sort by per-example random keys (batch_gather_math.h): the order depends on (seed,
    // epoch) only, and the device computes the same permutation for --data-on-device.
    kernels::shuffle_order_cpu(seed_, static_cast<uint64_t>(epoch_), size_, order_.data());
    order_epoch_ = epoch_;
  }
  return order_;
}

int64_t BatchLoader::batch_examples(int64_t b) const {
  if (b < 0 || b >= batches()) throw ConfigError("batch index out of range");
  return std::min(batch_size_, size_ - b * batch_size_);
}

int64_t BatchLoader::fill(int64_t b, float* images, float* labels) const {
  const int64_t n = batch_examples(b);
  const std::vector<int64_t>& order = this->order();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = order[static_cast<size_t>(b * batch_size_ + i)];
    kernels::gather_batch_cpu(data_.images.data() + src * data_.image_size(),
                              data_.labels.data() + src, nullptr, 1, data_.image_size(),
                              images + i * data_.image_size(), labels + i);
  }
  return n;
}

int64_t BatchLoader::fill_raw(int64_t b, uint8_t* images, uint8_t* labels) const {
  const int64_t n = batch_examples(b);
  const auto pixels = static_cast<size_t>(data_.image_size());
  const std::vector<int64_t>& order = this->order();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = order[static_cast<size_t>(b * batch_size_ + i)];
    std::memcpy(images + static_cast<size_t>(i) * pixels,
                data_.images.data() + static_cast<size_t>(src) * pixels, pixels);
    labels[i] = data_.labels[static_cast<size_t>(src)];
  }
  return n;
}

}  // namespace cutrain::data
