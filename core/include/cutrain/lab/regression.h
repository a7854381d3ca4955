// Linear regression with the engine's pieces (the book's airfoil experiments): a Linear(d, 1)
// model in a Sequential, the squared loss (y_hat - y)^2 / 2 averaged over the minibatch,
// shuffled minibatches from a seed, and an optimizer from make_optimizer. The loss over the
// whole data set is evaluated every `eval_every` examples, as d2l's train_ch11 does. CPU only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cutrain/lab/airfoil.h"
#include "cutrain/optim/optimizer.h"

namespace cutrain::lab {

struct RegressionOptions {
  std::string optimizer = "sgd";
  OptimizerOptions optim;  ///< lr unset: the engine's default
  int64_t batch_size = 10;
  int64_t epochs = 2;
  int64_t eval_every = 200;  ///< examples between two loss evaluations
  uint64_t seed = 0;         ///< initial weights and shuffling
  double init_std = 0.01;    ///< weights ~ N(0, init_std^2), bias 0 (the book's initialisation)
};

/// @brief The loss over the whole data set after `examples` training examples.
struct LossPoint {
  int64_t examples = 0;
  double epoch = 0.0;    ///< examples / count
  double seconds = 0.0;  ///< training time so far, evaluations excluded (as d2l's timer)
  double loss = 0.0;
};

struct RegressionResult {
  std::vector<LossPoint> curve;
  std::vector<float> weight;  ///< [features]
  float bias = 0.0f;
  double final_loss = 0.0;
  double seconds = 0.0;  ///< total training time
  std::string description;
};

/// @brief Mean of (y_hat - y)^2 / 2 over n examples; writes (y_hat - y) / n into dy when given.
double squared_loss(const float* y_hat, const float* y, int64_t n, float* dy = nullptr);

/// @brief Trains and returns the loss curve; the last point is always the final loss.
/// `on_point` sees each evaluation as it is made.
/// @throws ConfigError for bad options (names the flag), DataError for an empty data set.
RegressionResult run_regression(const RegressionData& data, const RegressionOptions& o,
                                const std::function<void(const LossPoint&)>& on_point = {});

/// @brief One entry of the book's comparison.
struct RegressionRun {
  std::string label;  ///< for legends ("momentum lr 0.01 beta 0.9")
  RegressionOptions options;
};

/// @brief The book's list (d2l chapter 11): SGD lr 1 batch 1500 (GD: one update per epoch),
/// lr 0.005 batch 1, lr 0.05 batch 10, lr 0.4 batch 100; momentum lr 0.02 beta 0.5, lr 0.01 beta
/// 0.9, lr 0.005 beta 0.9; AdaGrad lr 0.1; RMSProp lr 0.01 gamma 0.9; Adadelta rho 0.9; Adam lr
/// 0.01; Yogi lr 0.01; batch 10 unless said. Every run has `epochs` and `seed` (the book runs
/// GD for 10 epochs; experiments.md asks for 2 for all, which keeps the epoch axes comparable).
std::vector<RegressionRun> book_regression_runs(int64_t epochs = 2, uint64_t seed = 0);

}  // namespace cutrain::lab
