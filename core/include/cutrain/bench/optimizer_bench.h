// Benchmark of one fused optimizer step (not a test): time per step and effective bandwidth,
// next to a device-to-device copy of the same number of bytes in the same run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cutrain/device.h"
#include "cutrain/tensor.h"

namespace cutrain {

struct OptimizerBenchConfig {
  std::string optimizer = "adam";
  std::vector<Shape> shapes;  ///< parameter tensors (e.g. one of N, or LeNet's ten)
  Device device = Device::CUDA;
  int warmup = 20;
  int iterations = 200;
  double clip_norm = 0.0;
};

struct OptimizerBenchResult {
  int64_t params = 0;
  int64_t tensors = 0;
  double bytes_per_param = 0;  ///< bytes the rule must read and write per parameter
  double median_us = 0, min_us = 0;
  double gbps = 0;             ///< bytes_per_param * params / median time
  double copy_gbps = 0;        ///< device-to-device copy (read + write) of the same bytes
  int launches_per_step = 0;   ///< kernel launches (begin_step + update, + 2 when clipping)
};

/// Bytes a rule reads and writes per parameter: param, grad and state in, param and state out.
double optimizer_bytes_per_param(const std::string& optimizer);

OptimizerBenchResult bench_optimizer(const OptimizerBenchConfig& config);

}  // namespace cutrain
