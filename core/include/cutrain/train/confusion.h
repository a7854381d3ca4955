// Confusion matrix of a classifier's predictions: counts[true class][predicted class], with the
// per-class accuracy (recall) and the class each one is most often taken for.
#pragma once

#include <cstdint>
#include <vector>

namespace cutrain {

class ConfusionMatrix {
 public:
  /// Counts of (labels[i], predictions[i]) pairs over `classes` classes.
  /// @throws ConfigError when the sizes differ or a label or prediction is outside [0, classes)
  ConfusionMatrix(const std::vector<uint8_t>& labels, const std::vector<int32_t>& predictions,
                  int classes);

  int classes() const { return classes_; }
  /// Examples of class `truth` predicted as `predicted`.
  int64_t count(int truth, int predicted) const;
  /// Examples whose label is `truth`.
  int64_t examples_of(int truth) const;
  /// Correct predictions over all examples (the diagonal's share).
  double accuracy() const;
  /// Share of class `truth`'s examples predicted correctly; NaN when it has none.
  double accuracy_of(int truth) const;
  /// The wrong class `truth` is most often predicted as (the lowest such index on ties), or -1
  /// when none of its examples was predicted wrongly.
  int most_confused_with(int truth) const;

 private:
  int classes_;
  std::vector<int64_t> counts_;  // classes_ x classes_, row = truth
};

}  // namespace cutrain
