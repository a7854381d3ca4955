// Loader for Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist): 70000 28x28
// grayscale images of clothing in 10 classes, stored as four IDX files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cutrain::data {

enum class Split { Train, Test };

/// @brief An in-memory image classification data set.
struct ImageDataset {
  /// Images are count x channels x height x width uint8, row-major; labels has count entries.
  int64_t count = 0, channels = 1, height = 0, width = 0;
  int num_classes = 10;
  std::vector<uint8_t> images, labels;
  std::string source;  ///< Human-readable origin, for messages ("Fashion-MNIST train (/dir)").
  int64_t image_size() const { return channels * height * width; }
};

/// Where Debian's package dataset-fashion-mnist installs the files.
constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// @brief $CUTRAIN_DATA if set and non-empty, else kDefaultFashionMnistDir.
std::string default_data_dir();

/// @brief Loads one split from `dir`, which holds train-images-idx3-ubyte,
/// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each either
/// gzip-compressed with a ".gz" suffix (tried first) or raw without it.
/// @throws cutrain::DataError naming the directory or file and what to do when a file is
/// missing, malformed, or the images and labels disagree.
ImageDataset load_fashion_mnist(const std::string& dir, Split split);

/// @brief "t-shirt", "trouser", ..., "ankle boot" for labels 0..9; "unknown" otherwise.
const char* fashion_mnist_class_name(int label);

}  // namespace cutrain::data
