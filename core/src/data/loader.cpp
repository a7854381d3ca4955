#include "cutrain/data/loader.h"

#include <numeric>

#include "cutrain/error.h"
#include "cutrain/rng.h"

namespace cutrain::data {

BatchLoader::BatchLoader(const ImageDataset& data, int64_t batch_size, bool shuffle,
                         uint64_t seed, int64_t limit)
    : data_(data), batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
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
  order_.resize(static_cast<size_t>(size_));
  std::iota(order_.begin(), order_.end(), int64_t{0});
}

void BatchLoader::start_epoch(int64_t epoch) {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  if (!shuffle_) return;
  // Every epoch gets its own stream: the order depends on (seed, epoch) only.
  Rng rng(seed_ * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) + 1);
  for (int64_t i = size_ - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
  }
}

int64_t BatchLoader::batch_examples(int64_t b) const {
  if (b < 0 || b >= batches()) throw ConfigError("batch index out of range");
  return std::min(batch_size_, size_ - b * batch_size_);
}

int64_t BatchLoader::fill(int64_t b, float* images, float* labels) const {
  const int64_t n = batch_examples(b);
  const int64_t pixels = data_.image_size();
  constexpr float kScale = 1.0f / 255.0f;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = order_[static_cast<size_t>(b * batch_size_ + i)];
    const uint8_t* in = data_.images.data() + src * pixels;
    float* out = images + i * pixels;
    for (int64_t p = 0; p < pixels; ++p) out[p] = static_cast<float>(in[p]) * kScale;
    labels[i] = static_cast<float>(data_.labels[static_cast<size_t>(src)]);
  }
  return n;
}

}  // namespace cutrain::data
