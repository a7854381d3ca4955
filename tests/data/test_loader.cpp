// BatchLoader over a small in-memory data set whose pixels encode each example's index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "batch_gather_math.h"
#include "cutrain/data/loader.h"
#include "cutrain/error.h"

namespace cutrain::data {
namespace {

constexpr int64_t kCount = 37;
constexpr int64_t kPixels = 16;  // 1 x 4 x 4

// Example i: pixel p is (i * 5 + p) % 256, so every example differs and pixel 0 is i * 5;
// pixel 1 of example 0 is 255 and pixel 0 is 0. Labels are i % 10.
ImageDataset make_dataset() {
  ImageDataset d;
  d.count = kCount;
  d.channels = 1;
  d.height = 4;
  d.width = 4;
  d.source = "synthetic";
  d.images.resize(static_cast<size_t>(kCount * kPixels));
  d.labels.resize(static_cast<size_t>(kCount));
  for (int64_t i = 0; i < kCount; ++i) {
    for (int64_t p = 0; p < kPixels; ++p)
      d.images[static_cast<size_t>(i * kPixels + p)] = static_cast<uint8_t>((i * 5 + p) % 256);
    d.labels[static_cast<size_t>(i)] = static_cast<uint8_t>(i % 10);
  }
  d.images[1] = 255;
  return d;
}

// The example indices of one epoch, recovered from the pixel values written by fill().
std::vector<int64_t> epoch_examples(BatchLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> seen;
  std::vector<float> images(static_cast<size_t>(loader.batch_size() * kPixels));
  std::vector<float> labels(static_cast<size_t>(loader.batch_size()));
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const int64_t n = loader.fill(b, images.data(), labels.data());
    EXPECT_EQ(n, loader.batch_examples(b));
    for (int64_t i = 0; i < n; ++i) {
      const auto index =
          static_cast<int64_t>(std::lround(images[static_cast<size_t>(i * kPixels)] * 255.0f)) / 5;
      EXPECT_EQ(labels[static_cast<size_t>(i)], static_cast<float>(index % 10));
      seen.push_back(index);
    }
  }
  EXPECT_EQ(seen, loader.order());
  return seen;
}

std::vector<int64_t> identity(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

TEST(Loader, BatchCountsAndSizes) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, true, 1);
  EXPECT_EQ(loader.size(), kCount);
  EXPECT_EQ(loader.batch_size(), 8);
  EXPECT_EQ(loader.batches(), 5);
  for (int64_t b = 0; b < 4; ++b) EXPECT_EQ(loader.batch_examples(b), 8);
  EXPECT_EQ(loader.batch_examples(4), 5);
  EXPECT_THROW(loader.batch_examples(5), ConfigError);
  EXPECT_THROW(loader.batch_examples(-1), ConfigError);
  EXPECT_EQ(BatchLoader(d, 37, true, 1).batches(), 1);
  EXPECT_EQ(BatchLoader(d, 100, true, 1).batch_examples(0), kCount);
}

TEST(Loader, EveryExampleOncePerEpoch) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, true, 42);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> seen = epoch_examples(loader, epoch);
    ASSERT_EQ(seen.size(), static_cast<size_t>(kCount));
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, identity(kCount)) << "epoch " << epoch;
  }
}

TEST(Loader, OrderDependsOnSeedAndEpochOnly) {
  const ImageDataset d = make_dataset();
  BatchLoader a(d, 8, true, 42), b(d, 8, true, 42);
  const auto a0 = epoch_examples(a, 0);
  const auto a1 = epoch_examples(a, 1);
  EXPECT_NE(a0, a1);
  EXPECT_NE(a0, identity(kCount));
  // A second loader (as after a resume) jumps straight to epoch 1 and then back to epoch 0.
  EXPECT_EQ(epoch_examples(b, 1), a1);
  EXPECT_EQ(epoch_examples(b, 0), a0);
  EXPECT_EQ(epoch_examples(a, 0), a0);  // repeating an epoch repeats its order
  // The batch size does not change the order either.
  BatchLoader c(d, 5, true, 42);
  EXPECT_EQ(epoch_examples(c, 1), a1);
}

TEST(Loader, DifferentSeedsDiffer) {
  const ImageDataset d = make_dataset();
  BatchLoader a(d, 8, true, 1), b(d, 8, true, 2), c(d, 8, true, 0);
  const auto va = epoch_examples(a, 0), vb = epoch_examples(b, 0), vc = epoch_examples(c, 0);
  EXPECT_NE(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_NE(vb, vc);
}

TEST(Loader, NoShuffleIsIdentity) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, false, 42);
  EXPECT_EQ(loader.order(), identity(kCount));  // before any start_epoch
  EXPECT_EQ(epoch_examples(loader, 0), identity(kCount));
  EXPECT_EQ(epoch_examples(loader, 3), identity(kCount));
}

TEST(Loader, PixelsScaledToUnitIntervalAndLabelsAsFloats) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, false, 0);
  loader.start_epoch(0);
  std::vector<float> images(8 * kPixels, -1.0f), labels(8, -1.0f);
  ASSERT_EQ(loader.fill(0, images.data(), labels.data()), 8);
  EXPECT_EQ(images[0], 0.0f);  // example 0, pixel 0 = 0
  EXPECT_EQ(images[1], 1.0f);  // example 0, pixel 1 = 255
  for (int64_t i = 0; i < 8; ++i) {
    EXPECT_EQ(labels[static_cast<size_t>(i)], static_cast<float>(i % 10));
    for (int64_t p = 0; p < kPixels; ++p) {
      const float v = images[static_cast<size_t>(i * kPixels + p)];
      const uint8_t raw = d.images[static_cast<size_t>(i * kPixels + p)];
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, 1.0f);
      EXPECT_FLOAT_EQ(v, static_cast<float>(raw) / 255.0f);
    }
  }
  // The last, partial batch writes exactly 5 examples and nothing beyond them.
  std::fill(images.begin(), images.end(), -1.0f);
  std::fill(labels.begin(), labels.end(), -1.0f);
  ASSERT_EQ(loader.fill(4, images.data(), labels.data()), 5);
  EXPECT_EQ(labels[0], static_cast<float>(32 % 10));
  EXPECT_EQ(labels[4], static_cast<float>(36 % 10));
  EXPECT_FLOAT_EQ(images[4 * kPixels], static_cast<float>(36 * 5) / 255.0f);
  EXPECT_EQ(labels[5], -1.0f);
  EXPECT_EQ(images[5 * kPixels], -1.0f);
}

TEST(Loader, LimitUsesFirstExamplesOnly) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 4, true, 9, 10);
  EXPECT_EQ(loader.size(), 10);
  EXPECT_EQ(loader.batches(), 3);
  EXPECT_EQ(loader.batch_examples(2), 2);
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<int64_t> seen = epoch_examples(loader, epoch);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, identity(10));
  }
  EXPECT_EQ(BatchLoader(d, 4, true, 9, 1000).size(), kCount);  // a limit above count is count
  EXPECT_EQ(BatchLoader(d, 4, true, 9, 0).size(), kCount);     // 0 = all
}

TEST(Loader, InvalidOptionsThrow) {
  const ImageDataset d = make_dataset();
  EXPECT_THROW(BatchLoader(d, 0, true, 1), ConfigError);
  EXPECT_THROW(BatchLoader(d, -3, true, 1), ConfigError);
  EXPECT_THROW(BatchLoader(d, 8, true, 1, -1), ConfigError);
  BatchLoader loader(d, 8, true, 1);
  EXPECT_THROW(loader.start_epoch(-1), ConfigError);  // the shuffle key takes it unsigned
  ImageDataset empty;
  empty.height = empty.width = 4;
  EXPECT_THROW(BatchLoader(empty, 8, true, 1), ConfigError);
}

TEST(Loader, InconsistentInMemoryDatasetIsRejected) {
  ImageDataset short_images = make_dataset();
  short_images.images.pop_back();
  EXPECT_THROW(BatchLoader(short_images, 8, true, 1), ConfigError);
  ImageDataset short_labels = make_dataset();
  short_labels.labels.pop_back();
  EXPECT_THROW(BatchLoader(short_labels, 8, true, 1), ConfigError);
}

// The permutation is the closed form the device computes too: examples sorted by
// shuffle_key(seed, epoch, index), ties by index.
TEST(Loader, OrderIsASortByTheShuffleKeys) {
  const ImageDataset d = make_dataset();
  for (uint64_t seed : {0ull, 4ull}) {
    BatchLoader loader(d, 8, true, seed);
    for (int64_t epoch : {0, 2}) {
      loader.start_epoch(epoch);
      EXPECT_EQ(loader.epoch(), epoch);
      const std::vector<int64_t>& order = loader.order();
      auto key = [&](int64_t i) {
        return kernels::shuffle_key(seed, static_cast<uint64_t>(epoch), static_cast<uint64_t>(i));
      };
      for (size_t i = 1; i < order.size(); ++i)
        EXPECT_TRUE(key(order[i - 1]) < key(order[i]) ||
                    (key(order[i - 1]) == key(order[i]) && order[i - 1] < order[i]))
            << "seed " << seed << " epoch " << epoch << " position " << i;
    }
  }
}

// Sorting by hashed keys must still give every position the same chance: over 3,000 epochs
// each of 5 examples lands first about 600 times (binomial sd ~22; the bound is ~6 sd).
TEST(Loader, EveryExampleIsEquallyLikelyFirst) {
  ImageDataset d = make_dataset();
  d.count = 5;
  d.images.resize(5 * kPixels);
  d.labels.resize(5);
  BatchLoader loader(d, 5, true, 9);
  std::vector<int> first(5, 0);
  for (int64_t epoch = 0; epoch < 3000; ++epoch) {
    loader.start_epoch(epoch);
    ++first[static_cast<size_t>(loader.order()[0])];
  }
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(first[static_cast<size_t>(i)], 600, 130) << i;
}

// fill_raw (pinned staging: bytes, converted on the device) carries the same batch as fill.
TEST(Loader, RawBatchIsTheFloatBatchBeforeScaling) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, true, 3);
  loader.start_epoch(1);
  std::vector<float> images(8 * kPixels), labels(8);
  std::vector<uint8_t> raw_images(8 * kPixels), raw_labels(8);
  for (int64_t b = 0; b < loader.batches(); ++b) {
    const int64_t n = loader.fill(b, images.data(), labels.data());
    ASSERT_EQ(loader.fill_raw(b, raw_images.data(), raw_labels.data()), n);
    for (int64_t i = 0; i < n * kPixels; ++i)
      EXPECT_EQ(images[static_cast<size_t>(i)],
                kernels::pixel_to_float(raw_images[static_cast<size_t>(i)]));
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(labels[static_cast<size_t>(i)], static_cast<float>(raw_labels[static_cast<size_t>(i)]));
  }
}

// 37 examples in batches of 8: four full batches, the remaining 5 (a different 5 each epoch)
// left out; every delivered example still appears once.
TEST(Loader, DropLastKeepsOnlyFullBatches) {
  const ImageDataset d = make_dataset();
  BatchLoader loader(d, 8, true, 2, 0, /*drop_last=*/true);
  EXPECT_EQ(loader.batches(), 4);
  EXPECT_EQ(loader.epoch_examples(), 32);
  std::vector<int64_t> seen_first, seen_second;
  for (int64_t epoch : {0, 1}) {
    loader.start_epoch(epoch);
    std::vector<float> images(8 * kPixels), labels(8);
    std::vector<int64_t>& seen = epoch == 0 ? seen_first : seen_second;
    for (int64_t b = 0; b < loader.batches(); ++b) {
      EXPECT_EQ(loader.fill(b, images.data(), labels.data()), 8);
      for (int64_t i = 0; i < 8; ++i) seen.push_back(loader.order()[static_cast<size_t>(b * 8 + i)]);
    }
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << "an example twice";
    EXPECT_EQ(seen.size(), 32u);
  }
  EXPECT_NE(seen_first, seen_second);
  EXPECT_THROW(loader.batch_examples(4), ConfigError);
  // Without drop_last the same loader has a fifth batch of 5.
  EXPECT_EQ(BatchLoader(d, 8, true, 2).batches(), 5);
  // Fewer examples than one batch: nothing to train on is an error, not an empty epoch.
  EXPECT_THROW(BatchLoader(d, 64, true, 2, 0, true), ConfigError);
}

}  // namespace
}  // namespace cutrain::data
