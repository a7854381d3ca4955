// CPU-only builds (CUTRAIN_CUDA=OFF): the launchers exist so the library links, but no CUDA
// tensor can be created, so reaching one is a bug; it throws instead of doing nothing.
#include "activation.h"
#include "add.h"
#include "batch_gather.h"
#include "batchnorm.h"
#include "bilinear_resize.h"
#include "busy_wait.h"
#include "channel_bias_activation.h"
#include "cutrain/error.h"
#include "global_avg_pool.h"
#include "grad_norm.h"
#include "optimizer_update.h"
#include "softmax_ce.h"

namespace cutrain::kernels {
namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw DeviceError(std::string(what) + ": cutrain was built without CUDA");
}
}  // namespace

void launch_gather_batch(const uint8_t*, const uint8_t*, const int32_t*, int64_t, int64_t, float*,
                         float*, cudaStream_t) {
  no_cuda("launch_gather_batch");
}
void launch_busy_wait(int64_t, cudaStream_t) { no_cuda("launch_busy_wait"); }
size_t shuffle_order_scratch_bytes(int64_t) { no_cuda("shuffle_order_scratch_bytes"); }
void launch_shuffle_order(uint64_t, uint64_t, int64_t, int32_t*, void*, cudaStream_t) {
  no_cuda("launch_shuffle_order");
}

void launch_activation_forward(Activation, const float*, float*, int64_t, cudaStream_t) {
  no_cuda("launch_activation_forward");
}
void launch_activation_backward(Activation, const float*, const float*, const float*, float*,
                                int64_t, cudaStream_t) {
  no_cuda("launch_activation_backward");
}
int64_t activation_bias_backward_partials(const ChannelDims&) {
  no_cuda("activation_bias_backward_partials");
}
void launch_bias_activation_forward(Activation, const ChannelDims&, const float*, float*,
                                    cudaStream_t) {
  no_cuda("launch_bias_activation_forward");
}
void launch_activation_bias_backward(Activation, const ChannelDims&, const float*, const float*,
                                     float*, float*, float*, unsigned*, cudaStream_t) {
  no_cuda("launch_activation_bias_backward");
}
BnSchedule resolve_batchnorm_schedule(const BnDims&, const BnConfig&, bool) {
  no_cuda("resolve_batchnorm_schedule");
}
void launch_batchnorm_forward_train(const BnDims&, const BnConfig&, const BnChannels&, const float*,
                                    float*, float*, cudaStream_t) {
  no_cuda("launch_batchnorm_forward_train");
}
void launch_batchnorm_forward_infer(const BnDims&, const BnConfig&, const BnChannels&, const float*,
                                    float*, cudaStream_t) {
  no_cuda("launch_batchnorm_forward_infer");
}
void launch_batchnorm_backward(const BnDims&, const BnConfig&, const BnChannels&, const float*,
                               const float*, const float*, float*, float*, cudaStream_t) {
  no_cuda("launch_batchnorm_backward");
}
void launch_softmax_ce(const float*, const float*, int64_t, int, float, float*, float*, float*,
                       cudaStream_t) {
  no_cuda("launch_softmax_ce");
}
void launch_multi_tensor_update(OptimizerRule, const TensorChunk*, int64_t, const RuleConstants&,
                                const StepState*, cudaStream_t) {
  no_cuda("launch_multi_tensor_update");
}
void launch_begin_step(StepState*, cudaStream_t) { no_cuda("launch_begin_step"); }
void launch_set_step_state(StepState*, bool, float, bool, int32_t, cudaStream_t) {
  no_cuda("launch_set_step_state");
}
void launch_clip_grad_norm(const TensorChunk*, int64_t, float, float*, StepState*, cudaStream_t) {
  no_cuda("launch_clip_grad_norm");
}
void launch_add_forward(const float*, const float*, float*, int64_t, bool, cudaStream_t) {
  no_cuda("launch_add_forward");
}
void launch_add_backward(const float*, const float*, float*, int64_t, bool, cudaStream_t) {
  no_cuda("launch_add_backward");
}
void launch_global_avg_pool_forward(const float*, float*, int64_t, int64_t, cudaStream_t) {
  no_cuda("launch_global_avg_pool_forward");
}
void launch_global_avg_pool_backward(const float*, float*, int64_t, int64_t, cudaStream_t) {
  no_cuda("launch_global_avg_pool_backward");
}
void launch_bilinear_resize_forward(const ResizeDims&, const float*, float*, cudaStream_t) {
  no_cuda("launch_bilinear_resize_forward");
}
void launch_bilinear_resize_backward(const ResizeDims&, const float*, float*, cudaStream_t) {
  no_cuda("launch_bilinear_resize_backward");
}

}  // namespace cutrain::kernels
