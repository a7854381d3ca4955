// Batch normalization over x viewed as [n, c, s] row-major (s = H*W for NCHW input, 1 for
// [N, C]); per-channel statistics over the n*s values of each channel (math and formulas in
// batchnorm_math.h). Every per-channel tensor is [c] floats on the op's device; x, y, dy and dx
// must not alias. x and dx may be strided per sample (BnDims::x_stride), y and dy likewise
// (y_stride). The CUDA launchers are asynchronous on `stream`, never read device memory from
// the host, and give the same bits on every run and in either schedule (atomics only hand out
// work; every sum is formed in a fixed order).
#pragma once

#include <cstdint>

#include "batchnorm_math.h"
#include "cutrain/stream.h"

namespace cutrain::kernels {

struct BnDims {
  int64_t n = 0, c = 0, s = 1;
  /// Floats from one sample to the next in x and dx (x_stride) and in y and dy (y_stride);
  /// 0 means packed (c * s). A channel slice [c0, c0 + c) of a packed [n, C', s] buffer is the
  /// buffer's pointer + c0 * s with stride C' * s (DenseBlock).
  int64_t x_stride = 0, y_stride = 0;
  CUTRAIN_HD int64_t per_channel() const { return n * s; }  ///< M: values per statistic
  CUTRAIN_HD int64_t numel() const { return n * c * s; }
  CUTRAIN_HD int64_t xs() const { return x_stride ? x_stride : c * s; }
  CUTRAIN_HD int64_t ys() const { return y_stride ? y_stride : c * s; }
};

/// How the CUDA training ops (forward train, backward) order their two passes over a channel
/// whose values span several blocks (batchnorm_schedule.h); one block per channel is one
/// kernel either way. The results are the same bits.
enum class BnSchedule {
  Auto,      ///< Streamed when the first pass reads more than half the L2 cache, else TwoPass
  TwoPass,   ///< the first pass over every channel, then a second launch for the second
  Streamed,  ///< one launch; each channel's second pass follows its first while x is in L2
};

struct BnConfig {
  double eps = 1e-5;
  double momentum = 0.1;  ///< weight of the batch statistic in the running averages
  bool relu = false;      ///< fused ReLU after the affine transform
  /// Backward adds to dx (dx += ...) instead of overwriting it.
  bool accumulate_dx = false;
  BnSchedule schedule = BnSchedule::Auto;
  /// Streamed: channels the first pass runs ahead of the second; 0 chooses by the L2 cache's
  /// size (tests set small values so that the interleaved order runs on small tensors too).
  int64_t streamed_lag = 0;
};

/// The per-channel tensors of one layer. Which are read or written depends on the op.
struct BnChannels {
  const float* gamma = nullptr;   ///< read by all ops
  const float* beta = nullptr;    ///< read by the forwards
  float* running_mean = nullptr;  ///< updated by the training forward; read by inference
  float* running_var = nullptr;
  float* save_mean = nullptr;  ///< written by the training forward; read by backward
  float* save_inv_std = nullptr;
  float* dgamma = nullptr;  ///< written by backward
  float* dbeta = nullptr;
};

// CUDA work split: a channel's M values go to blocks of at least kBnBlockValues consecutive
// values, at most kBnMaxBlocks per channel; several blocks per channel add a combining stage
// that needs scratch: partial moments / sums (2 doubles per block), and for the streamed
// schedule the dx coefficients (3 floats per channel) and its counters (1 + 2 per channel).
constexpr int64_t kBnBlockValues = 4096;
constexpr int64_t kBnMaxBlocks = 256;

/// Scratch floats (8-byte aligned) the CUDA launchers need for `d`; enough for any smaller n.
inline int64_t batchnorm_scratch_floats(const BnDims& d) {
  const int64_t blocks = (d.per_channel() + kBnBlockValues - 1) / kBnBlockValues;
  return d.c * (blocks < kBnMaxBlocks ? blocks : kBnMaxBlocks) * 4 + d.c * 5 + 1;
}

/// Training forward: batch statistics -> save_mean, save_inv_std; running averages updated;
/// y = gamma * xhat + beta (ReLU'd when cfg.relu). Needs per_channel() >= 1.
void batchnorm_forward_train_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                 const float* x, float* y);
/// Inference forward with running_mean and running_var.
void batchnorm_forward_infer_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                 const float* x, float* y);
/// Backward of the training forward: dgamma, dbeta and, when dx is not null, dx. y (the
/// forward's output) is read only when cfg.relu.
void batchnorm_backward_cpu(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                            const float* x, const float* y, const float* dy, float* dx);

/// The schedule the CUDA training forward (or the backward) uses for `d` and cfg.schedule on
/// the current device: Auto resolved by the L2 cache's size and the arrays the op's first pass
/// reads, TwoPass whenever a channel fits one block.
BnSchedule resolve_batchnorm_schedule(const BnDims& d, const BnConfig& cfg, bool backward);

/// @param scratch batchnorm_scratch_floats(d) floats of device memory, 8-byte aligned
void launch_batchnorm_forward_train(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                    const float* x, float* y, float* scratch, cudaStream_t stream);
void launch_batchnorm_forward_infer(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                                    const float* x, float* y, cudaStream_t stream);
/// @param scratch batchnorm_scratch_floats(d) floats of device memory, 8-byte aligned
void launch_batchnorm_backward(const BnDims& d, const BnConfig& cfg, const BnChannels& ch,
                               const float* x, const float* y, const float* dy, float* dx,
                               float* scratch, cudaStream_t stream);

}  // namespace cutrain::kernels
