// Benchmark of the batch-norm kernels (not a test): forward (training and inference) and
// backward of cutrain's kernels and of cuDNN's batch norm on the same random inputs in one run,
// each with its median time and effective bandwidth, next to a copy of x on the same device.
//
// Effective bandwidth counts the least traffic each op must move, in bytes per value of x
// (float32), whatever an implementation really moves:
//   forward train      8 B  x read once, y written once (the statistics need a pass over x
//                           before y can be written, so a two-pass kernel reads x twice: 12 B
//                           unless the second read hits cache)
//   forward inference  8 B  x read, y written
//   backward          12 B  x and dy read, dx written (likewise, the per-channel sums come
//                           first; with the fused ReLU the mask can be recomputed from x and
//                           the saved statistics, so y is not counted although ours reads it)
// The per-channel tensors ([C] floats) are not counted. Both implementations are credited with
// the same bytes, so their GB/s ratio is the inverse ratio of their times.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/device.h"

namespace cutrain {

struct BatchnormBenchConfig {
  int64_t n = 256, c = 64, h = 56, w = 56;  ///< x is [N, C, H, W], packed
  Device device = Device::CUDA;
  int warmup = 10;
  int iterations = 100;
  bool relu = false;  ///< ours fused BN+ReLU; cuDNN its batch norm then its ReLU (in place)
  /// Ours on CUDA: the training ops' schedule, "auto", "two-pass" or "streamed" (the CPU twins
  /// have one). See BnSchedule in kernels/batchnorm.h.
  std::string schedule = "auto";
};

/// One implementation's time for one op.
struct BnTiming {
  double median_us = 0, min_us = 0;
  double gbps = 0;  ///< bytes_per_value * values / median time
};

struct BnOpResult {
  std::string op;  ///< "forward train", "forward infer" or "backward"
  double bytes_per_value = 0;
  BnTiming ours;
  BnTiming cudnn;  ///< zeros when cuDNN was not timed (CPU)
};

struct BatchnormBenchResult {
  int64_t values = 0;           ///< N*C*H*W
  std::vector<BnOpResult> ops;  ///< forward train, forward infer, backward
  double copy_gbps = 0;         ///< copy of x (read + write, 8 B/value) on the device, same run
  bool cudnn = false;           ///< cuDNN was timed (CUDA device)
  /// Ours' training-op schedule as run: "two-pass" or "streamed" ("auto" resolved by the
  /// device's L2 cache size), or "F (forward), B (backward)" where the two differ; "cpu" for
  /// the CPU twins.
  std::string schedule;
  /// cuDNN's mode for forward train and backward: "spatial" or "spatial-persistent", whichever
  /// had the smaller forward train + backward median (inference is always "spatial").
  std::string cudnn_mode;
  /// Why spatial-persistent was not timed (cuDNN's status); empty when it was.
  std::string cudnn_persistent_unsupported;
  /// After timing, one untimed pass of each from the same running statistics:
  /// max |ours - cuDNN| / max |cuDNN| of y (training forward), y (inference), dx, and of
  /// dgamma and dbeta together (NaN where either has a NaN). Zero when cuDNN was not timed.
  double y_rel_diff = 0, y_infer_rel_diff = 0, dx_rel_diff = 0, dparams_rel_diff = 0;
};

/// Bytes per value of x an op must move at least (see the header comment): 8, 8 or 12.
double batchnorm_bytes_per_value(const std::string& op);

/// Runs the benchmark on config.device (CUDA: ours and cuDNN; CPU: ours, the CPU twins). Throws
/// ConfigError for a shape with a non-positive dimension, more than 2^31 - 1 values (cuDNN's
/// int strides), N*H*W < 2 (training needs two values per channel) or an unknown schedule,
/// and DeviceError when a
/// CUDA or cuDNN call fails.
BatchnormBenchResult bench_batchnorm(const BatchnormBenchConfig& config);

}  // namespace cutrain
