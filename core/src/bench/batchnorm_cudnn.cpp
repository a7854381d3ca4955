// cuDNN's batch norm through its descriptor API (cudnnBatchNormalization*), deprecated in cuDNN 9
// in favour of the graph API but still supported; this file is compiled with
// -Wno-deprecated-declarations, like the cuDNN layers. cuDNN's conventions are PyTorch's (and
// ours): exponentialAverageFactor is the momentum, the running variance is unbiased, and the
// saved "inverse variance" is 1/sqrt(var + eps) over the biased variance.
#include "bench/batchnorm_cudnn.h"

#include "context_impl.h"
#include "cuda/cudnn_desc.h"
#include "cutrain/error.h"

namespace cutrain::detail {

struct CudnnBnState {
  TensorDesc x;         // x, y, dy and dx: packed NCHW float
  TensorDesc channels;  // 1xCx1x1: gamma, beta, running and saved statistics, their gradients
  ActivationDesc relu;
  Tensor dy_relu;  // dy masked by the ReLU (cfg.relu only)
};

namespace {

const float kOne = 1.0f, kZero = 0.0f;

cudnnBatchNormMode_t mode_of(bool persistent) {
  return persistent ? CUDNN_BATCHNORM_SPATIAL_PERSISTENT : CUDNN_BATCHNORM_SPATIAL;
}

// The first failing call of a sequence (the later ones are not made).
struct Status {
  cudnnStatus_t code = CUDNN_STATUS_SUCCESS;
  const char* call = "";
  bool ok() const { return code == CUDNN_STATUS_SUCCESS; }
};

template <typename F>
void then(Status& st, const char* call, F&& f) {
  if (!st.ok()) return;
  st.code = f();
  st.call = call;
}

void check(const Status& st, int line) {
  if (!st.ok()) throw_cudnn_error(st.call, st.code, __FILE__, line);
}

Status forward_train(cudnnHandle_t h, CudnnBnState& s, const kernels::BnConfig& cfg,
                     cudnnBatchNormMode_t mode, const kernels::BnChannels& ch, const float* x,
                     float* y) {
  Status st;
  then(st, "cudnnBatchNormalizationForwardTraining", [&] {
    return cudnnBatchNormalizationForwardTraining(
        h, mode, &kOne, &kZero, s.x.get(), x, s.x.get(), y, s.channels.get(), ch.gamma, ch.beta,
        cfg.momentum, ch.running_mean, ch.running_var, cfg.eps, ch.save_mean, ch.save_inv_std);
  });
  if (cfg.relu)
    then(st, "cudnnActivationForward", [&] {
      return cudnnActivationForward(h, s.relu.get(), &kOne, s.x.get(), y, &kZero, s.x.get(), y);
    });
  return st;
}

Status backward(cudnnHandle_t h, CudnnBnState& s, const kernels::BnConfig& cfg,
                cudnnBatchNormMode_t mode, const kernels::BnChannels& ch, const float* x,
                const float* y, const float* dy, float* dx) {
  Status st;
  const float* g = dy;
  if (cfg.relu) {
    // The ReLU's input is gone (in place), but y > 0 exactly where it was > 0, so y serves as
    // both its input and its output.
    then(st, "cudnnActivationBackward", [&] {
      return cudnnActivationBackward(h, s.relu.get(), &kOne, s.x.get(), y, s.x.get(), dy, s.x.get(),
                                     y, &kZero, s.x.get(), s.dy_relu.data());
    });
    g = s.dy_relu.data();
  }
  then(st, "cudnnBatchNormalizationBackward", [&] {
    return cudnnBatchNormalizationBackward(
        h, mode, &kOne, &kZero, &kOne, &kZero, s.x.get(), x, s.x.get(), g, s.x.get(), dx,
        s.channels.get(), ch.gamma, ch.dgamma, ch.dbeta, cfg.eps, ch.save_mean, ch.save_inv_std);
  });
  return st;
}

}  // namespace

CudnnBatchNorm::CudnnBatchNorm(int64_t n, int64_t c, int64_t h, int64_t w,
                               const kernels::BnConfig& cfg)
    : cfg_(cfg), s_(std::make_unique<CudnnBnState>()) {
  if (cfg.accumulate_dx) throw ConfigError("CudnnBatchNorm: accumulate_dx is not supported");
  s_->x = make_nchw_desc(n, c, h, w);
  // The same 1xCx1x1 descriptor serves both spatial modes.
  CUTRAIN_CUDNN_CHECK(
      cudnnDeriveBNTensorDescriptor(s_->channels.get(), s_->x.get(), CUDNN_BATCHNORM_SPATIAL));
  CUTRAIN_CUDNN_CHECK(cudnnSetActivationDescriptor(s_->relu.get(), CUDNN_ACTIVATION_RELU,
                                                   CUDNN_NOT_PROPAGATE_NAN, 0.0));
  if (cfg.relu) s_->dy_relu = Tensor(Shape{n, c, h, w}, Device::CUDA);
}

CudnnBatchNorm::~CudnnBatchNorm() = default;
CudnnBatchNorm::CudnnBatchNorm(CudnnBatchNorm&&) noexcept = default;
CudnnBatchNorm& CudnnBatchNorm::operator=(CudnnBatchNorm&&) noexcept = default;

std::string CudnnBatchNorm::persistent_unsupported_reason(Context& ctx,
                                                          const kernels::BnChannels& ch,
                                                          const float* x, float* y, const float* dy,
                                                          float* dx) {
  const cudnnBatchNormMode_t mode = CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
  Status st = detail::forward_train(cudnn_handle(ctx), *s_, cfg_, mode, ch, x, y);
  if (st.ok()) st = detail::backward(cudnn_handle(ctx), *s_, cfg_, mode, ch, x, y, dy, dx);
  const int category = CUDNN_STATUS_CATEGORY(st.code);
  if (category == CUDNN_STATUS_NOT_SUPPORTED || category == CUDNN_STATUS_BAD_PARAM)
    return std::string(st.call) + ": " + cudnnGetErrorString(st.code);
  check(st, __LINE__);
  return "";
}

void CudnnBatchNorm::forward_train(Context& ctx, const kernels::BnChannels& ch, const float* x,
                                   float* y) {
  check(detail::forward_train(cudnn_handle(ctx), *s_, cfg_, mode_of(persistent_), ch, x, y),
        __LINE__);
}

void CudnnBatchNorm::forward_infer(Context& ctx, const kernels::BnChannels& ch, const float* x,
                                   float* y) {
  const cudnnHandle_t h = cudnn_handle(ctx);
  CUTRAIN_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(
      h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, s_->x.get(), x, s_->x.get(), y, s_->channels.get(),
      ch.gamma, ch.beta, ch.running_mean, ch.running_var, cfg_.eps));
  if (cfg_.relu)
    CUTRAIN_CUDNN_CHECK(
        cudnnActivationForward(h, s_->relu.get(), &kOne, s_->x.get(), y, &kZero, s_->x.get(), y));
}

void CudnnBatchNorm::backward(Context& ctx, const kernels::BnChannels& ch, const float* x,
                              const float* y, const float* dy, float* dx) {
  check(detail::backward(cudnn_handle(ctx), *s_, cfg_, mode_of(persistent_), ch, x, y, dy, dx),
        __LINE__);
}

}  // namespace cutrain::detail
