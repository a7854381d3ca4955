#include "cutrain/train/confusion.h"

#include <cmath>
#include <string>

#include "cutrain/error.h"

namespace cutrain {

ConfusionMatrix::ConfusionMatrix(const std::vector<uint8_t>& labels,
                                 const std::vector<int32_t>& predictions, int classes)
    : classes_(classes) {
  if (classes < 1) throw ConfigError("confusion matrix: classes must be >= 1");
  if (labels.size() != predictions.size())
    throw ConfigError("confusion matrix: " + std::to_string(labels.size()) + " labels but " +
                      std::to_string(predictions.size()) + " predictions");
  counts_.assign(static_cast<size_t>(classes) * static_cast<size_t>(classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    const int t = labels[i], p = predictions[i];
    if (t >= classes || p < 0 || p >= classes)
      throw ConfigError("confusion matrix: example " + std::to_string(i) + " has label " +
                        std::to_string(t) + " and prediction " + std::to_string(p) +
                        ", expected both in [0, " + std::to_string(classes) + ")");
    ++counts_[static_cast<size_t>(t) * static_cast<size_t>(classes) + static_cast<size_t>(p)];
  }
}

int64_t ConfusionMatrix::count(int truth, int predicted) const {
  if (truth < 0 || truth >= classes_ || predicted < 0 || predicted >= classes_)
    throw ConfigError("confusion matrix: class out of range");
  return counts_[static_cast<size_t>(truth) * static_cast<size_t>(classes_) +
                 static_cast<size_t>(predicted)];
}

int64_t ConfusionMatrix::examples_of(int truth) const {
  int64_t n = 0;
  for (int p = 0; p < classes_; ++p) n += count(truth, p);
  return n;
}

double ConfusionMatrix::accuracy() const {
  int64_t hits = 0, total = 0;
  for (int c = 0; c < classes_; ++c) hits += count(c, c), total += examples_of(c);
  return total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : std::nan("");
}

double ConfusionMatrix::accuracy_of(int truth) const {
  const int64_t n = examples_of(truth);
  return n > 0 ? static_cast<double>(count(truth, truth)) / static_cast<double>(n) : std::nan("");
}

int ConfusionMatrix::most_confused_with(int truth) const {
  int best = -1;
  for (int p = 0; p < classes_; ++p)
    if (p != truth && count(truth, p) > 0 && (best < 0 || count(truth, p) > count(truth, best)))
      best = p;
  return best;
}

}  // namespace cutrain
