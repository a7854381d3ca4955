#include "cutrain/data/fashion_mnist.h"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "cutrain/data/idx.h"
#include "cutrain/error.h"

namespace cutrain::data {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "install Debian's package dataset-fashion-mnist (sudo apt-get install "
    "dataset-fashion-mnist), or pass --data DIR / set CUTRAIN_DATA to a directory holding the "
    "four IDX files";

constexpr const char* kClassNames[] = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                       "sandal",  "shirt",   "sneaker",  "bag",   "ankle boot"};
constexpr int kNumClasses = 10;

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

// Returns the path of `base` + ".gz" or `base` in `dir`, preferring the compressed file as the
// Debian package ships it.
std::string find_file(const std::string& dir, const std::string& base) {
  const std::string gz = join(dir, base + ".gz");
  const std::string raw = join(dir, base);
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz;
  if (fs::exists(raw, ec)) return raw;
  throw DataError(gz + ": Fashion-MNIST file not found (also tried " + raw + ") in directory " +
                  dir + "; " + kInstallHint);
}

}  // namespace

std::string default_data_dir() {
  const char* env = std::getenv("CUTRAIN_DATA");
  return env && *env ? std::string(env) : std::string(kDefaultFashionMnistDir);
}

ImageDataset load_fashion_mnist(const std::string& dir, Split split) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string split_name = split == Split::Train ? "train" : "test";

  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    const bool exists = fs::exists(dir, ec);
    throw DataError(dir + ": Fashion-MNIST directory " +
                    (exists ? "is not a directory" : "not found") + " (looking for " + prefix +
                    "-images-idx3-ubyte[.gz] and " + prefix + "-labels-idx1-ubyte[.gz]); " +
                    kInstallHint);
  }

  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);

  if (images.dims.size() != 3) {
    throw DataError(images_path +
                    ": expected 3 dimensions (count x height x width) in an "
                    "images file, found " +
                    std::to_string(images.dims.size()));
  }
  if (labels.dims.size() != 1) {
    throw DataError(labels_path + ": expected 1 dimension (count) in a labels file, found " +
                    std::to_string(labels.dims.size()));
  }
  if (images.dims[0] != labels.dims[0]) {
    throw DataError(images_path + " holds " + std::to_string(images.dims[0]) + " images but " +
                    labels_path + " holds " + std::to_string(labels.dims[0]) +
                    " labels; expected the same count in both files");
  }
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kNumClasses) {
      throw DataError(labels_path + ": label at index " + std::to_string(i) + " is " +
                      std::to_string(labels.data[i]) + "; expected 0.." +
                      std::to_string(kNumClasses - 1));
    }
  }

  ImageDataset ds;
  ds.count = images.dims[0];
  ds.channels = 1;
  ds.height = images.dims[1];
  ds.width = images.dims[2];
  ds.num_classes = kNumClasses;
  ds.images = std::move(images.data);
  ds.labels = std::move(labels.data);
  ds.source = "Fashion-MNIST " + split_name + " (" + dir + ")";
  return ds;
}

const char* fashion_mnist_class_name(int label) {
  return label >= 0 && label < kNumClasses ? kClassNames[label] : "unknown";
}

}  // namespace cutrain::data
