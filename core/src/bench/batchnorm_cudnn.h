// cuDNN's batch norm over a packed NCHW float tensor, for `cutrain bench batchnorm` (private;
// compiled only with CUDA). The interface mirrors the kernels' launchers (kernels/batchnorm.h):
// the same BnConfig and BnChannels, the same per-channel tensors, the context's stream.
// No cuDNN type appears here: cuDNN 9 marks the batch-norm API deprecated, and only
// batchnorm_cudnn.cpp is compiled with that warning off.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "batchnorm.h"
#include "cutrain/context.h"

namespace cutrain::detail {

struct CudnnBnState;  // the descriptors (batchnorm_cudnn.cpp)

class CudnnBatchNorm {
 public:
  /// cfg.relu: a cuDNN ReLU after the batch norm (in place on y) and its backward before the
  /// batch norm's backward (into a scratch tensor of x's size owned here). accumulate_dx is
  /// not supported.
  CudnnBatchNorm(int64_t n, int64_t c, int64_t h, int64_t w, const kernels::BnConfig& cfg);
  ~CudnnBatchNorm();
  CudnnBatchNorm(CudnnBatchNorm&&) noexcept;
  CudnnBatchNorm& operator=(CudnnBatchNorm&&) noexcept;

  /// CUDNN_BATCHNORM_SPATIAL_PERSISTENT (true) or CUDNN_BATCHNORM_SPATIAL (false, the default)
  /// for forward_train and backward; inference always uses SPATIAL.
  void set_persistent(bool persistent) { persistent_ = persistent; }
  /// Runs forward_train and backward once in the persistent mode. Empty when both succeed;
  /// cuDNN's reason when it rejects the mode (a "not supported" or "bad parameter" status;
  /// other failures throw). The mode set before is kept.
  std::string persistent_unsupported_reason(Context& ctx, const kernels::BnChannels& ch,
                                            const float* x, float* y, const float* dy, float* dx);

  /// Batch statistics -> ch.save_mean / ch.save_inv_std, running averages updated, y written.
  void forward_train(Context& ctx, const kernels::BnChannels& ch, const float* x, float* y);
  /// y from ch.running_mean / ch.running_var.
  void forward_infer(Context& ctx, const kernels::BnChannels& ch, const float* x, float* y);
  /// dx, ch.dgamma, ch.dbeta from the saved statistics; y (the forward's output) is read only
  /// with the ReLU.
  void backward(Context& ctx, const kernels::BnChannels& ch, const float* x, const float* y,
                const float* dy, float* dx);

 private:
  kernels::BnConfig cfg_;
  bool persistent_ = false;
  std::unique_ptr<CudnnBnState> s_;
};

}  // namespace cutrain::detail
