// Multi-tensor apply: the host cuts every parameter tensor into chunks of at most
// kChunkElements and lists them in one table; one kernel launch processes the whole table (one
// block per chunk) and the CPU twin walks the same table. Parameters are static, so the table
// is built once per optimizer and lives in device memory: the launch takes only its address,
// which keeps the step capturable in a CUDA graph and removes any argument-space limit.
#pragma once

#include <cstdint>
#include <vector>

#include "cutrain/error.h"

namespace cutrain::kernels {

constexpr int64_t kChunkElements = 32768;
constexpr int kMaxStateTensors = 2;

/// One chunk: aligned slices of a parameter, its gradient and its optimizer state tensors,
/// with its parameter group's learning-rate multiplier and weight decay.
struct TensorChunk {
  float* param;
  const float* grad;
  float* state[kMaxStateTensors];  // nullptr where the rule keeps less state
  int64_t length;
  float lr_scale = 1.0f;
  float weight_decay = 0.0f;
};

/// The tensors of one parameter as the optimizer sees them.
struct TensorSlot {
  float* param;
  const float* grad;
  float* state[kMaxStateTensors];
  int64_t numel;
  float lr_scale = 1.0f;
  float weight_decay = 0.0f;
};

/// Cuts each tensor into chunks of at most `chunk` elements, in tensor order.
inline std::vector<TensorChunk> build_chunk_table(const std::vector<TensorSlot>& slots,
                                                  int64_t chunk = kChunkElements) {
  if (chunk <= 0) throw ConfigError("build_chunk_table: chunk size must be positive");
  std::vector<TensorChunk> table;
  for (const TensorSlot& s : slots) {
    for (int64_t off = 0; off < s.numel; off += chunk) {
      TensorChunk c{};
      c.param = s.param + off;
      c.grad = s.grad + off;
      for (int k = 0; k < kMaxStateTensors; ++k) c.state[k] = s.state[k] ? s.state[k] + off : nullptr;
      c.length = (s.numel - off < chunk) ? s.numel - off : chunk;
      c.lr_scale = s.lr_scale;
      c.weight_decay = s.weight_decay;
      table.push_back(c);
    }
  }
  return table;
}

}  // namespace cutrain::kernels
