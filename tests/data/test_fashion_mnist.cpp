#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "../support/temp_dir.h"
#include "cutrain/data/fashion_mnist.h"
#include "cutrain/data/idx.h"
#include "cutrain/error.h"

namespace {

using cutrain::data::default_data_dir;
using cutrain::data::fashion_mnist_class_name;
using cutrain::data::ImageDataset;
using cutrain::data::kDefaultFashionMnistDir;
using cutrain::data::load_fashion_mnist;
using cutrain::data::Split;
using cutrain::data::write_idx;
using cutrain::test::Contains;
using cutrain::test::data_error_message;
using cutrain::test::idx_bytes;
using cutrain::test::StartsWith;
using cutrain::test::TempDir;
using cutrain::test::write_file;

constexpr int64_t kSide = 28;

uint8_t pixel(int64_t n, int64_t i) { return static_cast<uint8_t>(n * 31 + i); }
uint8_t label(int64_t n) { return static_cast<uint8_t>((n * 3) % 10); }

// Writes a `count`-sample split ("train" or "t10k") of 28x28 images with a known pattern.
void write_split(const TempDir& dir, const std::string& prefix, int64_t count, bool gzip) {
  std::vector<uint8_t> images(count * kSide * kSide), labels(count);
  for (int64_t n = 0; n < count; ++n) {
    for (int64_t i = 0; i < kSide * kSide; ++i) images[n * kSide * kSide + i] = pixel(n, i);
    labels[n] = label(n);
  }
  const std::string suffix = gzip ? ".gz" : "";
  write_idx(dir.file(prefix + "-images-idx3-ubyte" + suffix), {count, kSide, kSide}, images, gzip);
  write_idx(dir.file(prefix + "-labels-idx1-ubyte" + suffix), {count}, labels, gzip);
}

// Loads `split` from `dir`, expecting a DataError; returns its message.
std::string load_error(const std::string& dir, Split split = Split::Train) {
  return data_error_message([&] { load_fashion_mnist(dir, split); });
}

TEST(FashionMnist, LoadsGeneratedDataset) {
  TempDir dir;
  write_split(dir, "train", 7, /*gzip=*/true);
  write_split(dir, "t10k", 3, /*gzip=*/false);

  const ImageDataset train = load_fashion_mnist(dir.path().string(), Split::Train);
  EXPECT_EQ(train.count, 7);
  EXPECT_EQ(train.channels, 1);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.width, 28);
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.image_size(), 784);
  ASSERT_EQ(train.images.size(), 7u * 784);
  ASSERT_EQ(train.labels.size(), 7u);
  EXPECT_EQ(train.images[5 * 784 + 3 * 28 + 4], pixel(5, 3 * 28 + 4));
  EXPECT_EQ(train.labels[4], label(4));
  EXPECT_TRUE(Contains(train.source, "train"));
  EXPECT_TRUE(Contains(train.source, dir.path().string()));

  const ImageDataset test = load_fashion_mnist(dir.path().string(), Split::Test);
  EXPECT_EQ(test.count, 3);
  ASSERT_EQ(test.images.size(), 3u * 784);
  EXPECT_EQ(test.images[2 * 784 + 700], pixel(2, 700));
  EXPECT_EQ(test.labels[2], label(2));
  EXPECT_TRUE(Contains(test.source, "test"));
}

TEST(FashionMnist, PrefersGzipOverRaw) {
  TempDir dir;
  write_split(dir, "train", 4, /*gzip=*/true);
  write_split(dir, "train", 2, /*gzip=*/false);
  EXPECT_EQ(load_fashion_mnist(dir.path().string(), Split::Train).count, 4);
}

TEST(FashionMnist, MissingDirectoryExplainsWhatToDo) {
  TempDir dir;
  const std::string missing = dir.file("nowhere");
  const std::string msg = load_error(missing);
  EXPECT_TRUE(StartsWith(msg, missing));
  EXPECT_TRUE(Contains(msg, "not found"));
  EXPECT_TRUE(Contains(msg, "train-images-idx3-ubyte"));
  EXPECT_TRUE(Contains(msg, "sudo apt-get install dataset-fashion-mnist"));
  EXPECT_TRUE(Contains(msg, "--data DIR / set CUTRAIN_DATA"));
}

TEST(FashionMnist, MissingFileNamesItAndTheDirectory) {
  TempDir dir;
  write_split(dir, "train", 2, /*gzip=*/true);
  std::filesystem::remove(dir.file("train-labels-idx1-ubyte.gz"));
  const std::string msg = load_error(dir.path().string());
  EXPECT_TRUE(StartsWith(msg, dir.file("train-labels-idx1-ubyte.gz")));
  EXPECT_TRUE(Contains(msg, "also tried " + dir.file("train-labels-idx1-ubyte")));
  EXPECT_TRUE(Contains(msg, "in directory " + dir.path().string()));
  EXPECT_TRUE(Contains(msg, "dataset-fashion-mnist"));
  // The test split is missing altogether.
  EXPECT_TRUE(Contains(load_error(dir.path().string(), Split::Test), "t10k-images-idx3-ubyte"));
}

TEST(FashionMnist, CountMismatchNamesBothFiles) {
  TempDir dir;
  write_split(dir, "train", 7, /*gzip=*/true);
  write_idx(dir.file("train-labels-idx1-ubyte.gz"), {6}, std::vector<uint8_t>(6, 1), true);
  const std::string msg = load_error(dir.path().string());
  EXPECT_TRUE(Contains(msg, dir.file("train-images-idx3-ubyte.gz") + " holds 7 images"));
  EXPECT_TRUE(Contains(msg, dir.file("train-labels-idx1-ubyte.gz") + " holds 6 labels"));
}

TEST(FashionMnist, LabelOutOfRange) {
  TempDir dir;
  write_split(dir, "t10k", 6, /*gzip=*/false);
  const std::string labels = dir.file("t10k-labels-idx1-ubyte");
  write_file(labels, idx_bytes({6}, {0, 9, 3, 4, 10, 2}));
  const std::string msg = load_error(dir.path().string(), Split::Test);
  EXPECT_TRUE(StartsWith(msg, labels));
  EXPECT_TRUE(Contains(msg, "label at index 4 is 10; expected 0..9"));
}

TEST(FashionMnist, WrongDimensionCounts) {
  TempDir dir;
  write_split(dir, "train", 3, /*gzip=*/true);
  const std::string images = dir.file("train-images-idx3-ubyte.gz");
  write_idx(images, {3, 784}, std::vector<uint8_t>(3 * 784), true);
  std::string msg = load_error(dir.path().string());
  EXPECT_TRUE(StartsWith(msg, images));
  EXPECT_TRUE(Contains(msg, "expected 3 dimensions"));

  write_split(dir, "train", 3, /*gzip=*/true);
  const std::string labels = dir.file("train-labels-idx1-ubyte.gz");
  write_idx(labels, {3, 1}, {1, 2, 3}, true);
  msg = load_error(dir.path().string());
  EXPECT_TRUE(StartsWith(msg, labels));
  EXPECT_TRUE(Contains(msg, "expected 1 dimension"));
}

TEST(FashionMnist, MalformedFileErrorNamesTheFile) {
  TempDir dir;
  write_split(dir, "train", 2, /*gzip=*/false);
  const std::string images = dir.file("train-images-idx3-ubyte");
  write_file(images, idx_bytes({2, 28, 28}, std::vector<uint8_t>(1000)));
  const std::string msg = load_error(dir.path().string());
  EXPECT_TRUE(StartsWith(msg, images));
  EXPECT_TRUE(Contains(msg, "truncated: expected 1568 data bytes"));
}

TEST(FashionMnist, DefaultDataDirHonoursEnvironment) {
  const char* old = std::getenv("CUTRAIN_DATA");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("CUTRAIN_DATA", "/some/where", 1);
  EXPECT_EQ(default_data_dir(), "/some/where");
  setenv("CUTRAIN_DATA", "", 1);
  EXPECT_EQ(default_data_dir(), kDefaultFashionMnistDir);
  unsetenv("CUTRAIN_DATA");
  EXPECT_EQ(default_data_dir(), kDefaultFashionMnistDir);
  if (saved) setenv("CUTRAIN_DATA", saved->c_str(), 1);
}

TEST(FashionMnist, ClassNames) {
  EXPECT_STREQ(fashion_mnist_class_name(0), "t-shirt");
  EXPECT_STREQ(fashion_mnist_class_name(5), "sandal");
  EXPECT_STREQ(fashion_mnist_class_name(9), "ankle boot");
  EXPECT_STREQ(fashion_mnist_class_name(10), "unknown");
  EXPECT_STREQ(fashion_mnist_class_name(-1), "unknown");
}

TEST(FashionMnist, RealDatasetWhenInstalled) {
  if (!std::filesystem::is_directory(kDefaultFashionMnistDir)) {
    GTEST_SKIP() << kDefaultFashionMnistDir
                 << " not found; install Debian's package dataset-fashion-mnist to run this test";
  }
  const ImageDataset train = load_fashion_mnist(kDefaultFashionMnistDir, Split::Train);
  const ImageDataset test = load_fashion_mnist(kDefaultFashionMnistDir, Split::Test);
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  for (const ImageDataset* ds : {&train, &test}) {
    EXPECT_EQ(ds->height, 28);
    EXPECT_EQ(ds->width, 28);
    EXPECT_EQ(ds->images.size(), static_cast<size_t>(ds->count * 784));
  }
  std::array<int, 10> train_per_class{}, test_per_class{};
  for (uint8_t l : train.labels) ++train_per_class[l];
  for (uint8_t l : test.labels) ++test_per_class[l];
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(train_per_class[c], 6000) << "class " << c;
    EXPECT_EQ(test_per_class[c], 1000) << "class " << c;
  }
}

}  // namespace
