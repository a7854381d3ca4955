// dataset_fingerprint: what the device-resident input stage relies on to notice that the data
// set at a known address is no longer the one it uploaded.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "cutrain/data/fingerprint.h"

namespace cutrain::data {
namespace {

// 1000 28x28 examples: large enough that the image samples are sparse (784,000 bytes, 4096
// samples), with varied pixels and labels.
ImageDataset make_dataset(int64_t count = 1000) {
  ImageDataset d;
  d.count = count;
  d.height = 28;
  d.width = 28;
  d.images.resize(static_cast<size_t>(count * 784));
  d.labels.resize(static_cast<size_t>(count));
  uint32_t x = 12345;
  for (uint8_t& v : d.images) v = static_cast<uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
  for (size_t i = 0; i < d.labels.size(); ++i) d.labels[i] = static_cast<uint8_t>((i * 7) % 10);
  return d;
}

TEST(DatasetFingerprint, EqualForEqualContentWhereverItLives) {
  const ImageDataset a = make_dataset();
  const ImageDataset b = a;  // other addresses, same content
  EXPECT_EQ(dataset_fingerprint(a), dataset_fingerprint(b));
  EXPECT_EQ(dataset_fingerprint(a), dataset_fingerprint(a));
}

TEST(DatasetFingerprint, SeesAnyChangedLabel) {
  const ImageDataset a = make_dataset();
  const uint64_t h = dataset_fingerprint(a);
  for (const size_t i : {size_t{0}, size_t{7}, size_t{8}, size_t{500}, a.labels.size() - 1}) {
    ImageDataset b = a;
    b.labels[i] = static_cast<uint8_t>((b.labels[i] + 1) % 10);
    EXPECT_NE(dataset_fingerprint(b), h) << "label " << i;
  }
}

TEST(DatasetFingerprint, SeesSwappedExamples) {
  ImageDataset b = make_dataset();
  const uint64_t h = dataset_fingerprint(b);
  // Swap two examples whole (images and labels): the same bytes in another order.
  std::swap_ranges(b.images.begin(), b.images.begin() + 784, b.images.begin() + 784 * 3);
  std::swap(b.labels[0], b.labels[3]);
  EXPECT_NE(dataset_fingerprint(b), h);
}

TEST(DatasetFingerprint, SeesWholeImageTransforms) {
  const ImageDataset a = make_dataset();
  const uint64_t h = dataset_fingerprint(a);
  ImageDataset flipped = a;  // every image mirrored left-right, labels kept
  for (int64_t i = 0; i < a.count * 28; ++i) {
    auto row = flipped.images.begin() + i * 28;
    std::reverse(row, row + 28);
  }
  EXPECT_NE(dataset_fingerprint(flipped), h);
  ImageDataset brighter = a;  // +1 on every pixel (saturating)
  for (uint8_t& v : brighter.images) v = static_cast<uint8_t>(std::min(255, v + 1));
  EXPECT_NE(dataset_fingerprint(brighter), h);
}

TEST(DatasetFingerprint, SeesTheFirstAndLastImageByte) {
  const ImageDataset a = make_dataset();
  const uint64_t h = dataset_fingerprint(a);
  ImageDataset first = a, last = a;
  first.images.front() ^= 1;
  last.images.back() ^= 1;
  EXPECT_NE(dataset_fingerprint(first), h);
  EXPECT_NE(dataset_fingerprint(last), h);
}

TEST(DatasetFingerprint, SmallDataSetsAreHashedWhole) {
  // 5 examples of 28x28 = 3920 bytes < 4096 samples: every byte counts.
  const ImageDataset a = make_dataset(5);
  const uint64_t h = dataset_fingerprint(a);
  for (size_t i = 0; i < a.images.size(); i += 97) {
    ImageDataset b = a;
    b.images[i] ^= 0x10;
    EXPECT_NE(dataset_fingerprint(b), h) << "byte " << i;
  }
}

TEST(DatasetFingerprint, SeesTheShape) {
  const ImageDataset a = make_dataset();
  ImageDataset b = a;  // the same bytes read as 1000 examples of 14x56
  b.height = 14;
  b.width = 56;
  EXPECT_NE(dataset_fingerprint(b), dataset_fingerprint(a));
  ImageDataset empty;
  EXPECT_NE(dataset_fingerprint(empty), dataset_fingerprint(a));
  EXPECT_EQ(dataset_fingerprint(empty), dataset_fingerprint(ImageDataset{}));
}

}  // namespace
}  // namespace cutrain::data
