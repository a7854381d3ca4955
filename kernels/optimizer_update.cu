// CUDA side of the fused optimizer step: block b updates chunk b of the table. Chunks start at
// multiples of kChunkElements inside 256-byte-aligned allocations, so almost every chunk takes
// the float4 path; the last (length % 4) elements, or a misaligned chunk, go scalar.
#include <cstdint>

#include "cuda/check.h"
#include "optimizer_update.h"

namespace cutrain::kernels {
namespace {

constexpr int kThreads = 256;

template <OptimizerRule R>
__device__ __forceinline__ void update4(const ElementContext& e, float gs, float4& x, float4 g,
                                        float4& a, float4& b) {
  update_element<R>(e, x.x, g.x * gs, a.x, b.x);
  update_element<R>(e, x.y, g.y * gs, a.y, b.y);
  update_element<R>(e, x.z, g.z * gs, a.z, b.z);
  update_element<R>(e, x.w, g.w * gs, a.w, b.w);
}

template <OptimizerRule R>
__global__ void __launch_bounds__(kThreads)
    multi_tensor_update_kernel(const TensorChunk* __restrict__ table, RuleConstants k,
                               const StepState* __restrict__ state) {
  constexpr int S = state_tensors(R);
  const TensorChunk c = table[blockIdx.x];
  const StepState st = *state;
  // The bias corrections (two double pows) once per block, not per thread: ~2% of an Adam step
  // at 100M parameters otherwise. The other rules do not use them.
  constexpr bool kCorrected =
      R == OptimizerRule::Adam || R == OptimizerRule::AdamW || R == OptimizerRule::Yogi;
  __shared__ float corrections[2];
  if constexpr (kCorrected) {
    if (threadIdx.x == 0) {
      corrections[0] = bias_correction(k.beta1, st.step);
      corrections[1] = bias_correction(k.beta2, st.step);
    }
    __syncthreads();
  }
  const ElementContext e{k, st.lr * c.lr_scale, c.weight_decay, kCorrected ? corrections[0] : 1.0f,
                         kCorrected ? corrections[1] : 1.0f};
  const float gs = st.grad_scale;
  float* s0 = S > 0 ? c.state[0] : nullptr;
  float* s1 = S > 1 ? c.state[1] : nullptr;

  const uintptr_t addresses = reinterpret_cast<uintptr_t>(c.param) |
                              reinterpret_cast<uintptr_t>(c.grad) |
                              reinterpret_cast<uintptr_t>(s0) | reinterpret_cast<uintptr_t>(s1);
  const int64_t vector_end = (addresses % 16 == 0) ? c.length / 4 * 4 : 0;
  for (int64_t i = 4 * static_cast<int64_t>(threadIdx.x); i < vector_end; i += 4 * kThreads) {
    float4 x = *reinterpret_cast<const float4*>(c.param + i);
    const float4 g = *reinterpret_cast<const float4*>(c.grad + i);
    float4 a = S > 0 ? *reinterpret_cast<const float4*>(s0 + i) : make_float4(0, 0, 0, 0);
    float4 b = S > 1 ? *reinterpret_cast<const float4*>(s1 + i) : make_float4(0, 0, 0, 0);
    update4<R>(e, gs, x, g, a, b);
    *reinterpret_cast<float4*>(c.param + i) = x;
    if (S > 0) *reinterpret_cast<float4*>(s0 + i) = a;
    if (S > 1) *reinterpret_cast<float4*>(s1 + i) = b;
  }
  for (int64_t i = vector_end + threadIdx.x; i < c.length; i += kThreads) {
    float a = S > 0 ? s0[i] : 0.0f, b = S > 1 ? s1[i] : 0.0f;
    update_element<R>(e, c.param[i], c.grad[i] * gs, a, b);
    if (S > 0) s0[i] = a;
    if (S > 1) s1[i] = b;
  }
}

template <OptimizerRule R>
void launch(const TensorChunk* table, int64_t chunks, const RuleConstants& k,
            const StepState* state, cudaStream_t stream) {
  multi_tensor_update_kernel<R><<<static_cast<unsigned>(chunks), kThreads, 0, stream>>>(table, k,
                                                                                       state);
  CUTRAIN_CHECK_LAUNCH("multi_tensor_update_kernel");
}

__global__ void begin_step_kernel(StepState* state) { begin_step(*state); }

__global__ void set_step_state_kernel(StepState* state, bool set_lr, float lr, bool set_step,
                                      int32_t completed_steps) {
  if (set_lr) state->lr = lr;
  if (set_step) state->step = completed_steps;
}

}  // namespace

void launch_begin_step(StepState* state, cudaStream_t stream) {
  begin_step_kernel<<<1, 1, 0, stream>>>(state);
  CUTRAIN_CHECK_LAUNCH("begin_step_kernel");
}

void launch_set_step_state(StepState* state, bool set_lr, float lr, bool set_step,
                           int32_t completed_steps, cudaStream_t stream) {
  set_step_state_kernel<<<1, 1, 0, stream>>>(state, set_lr, lr, set_step, completed_steps);
  CUTRAIN_CHECK_LAUNCH("set_step_state_kernel");
}

void launch_multi_tensor_update(OptimizerRule rule, const TensorChunk* table, int64_t chunks,
                                const RuleConstants& k, const StepState* state,
                                cudaStream_t stream) {
  if (chunks == 0) return;  // grid x holds 2^31-1 blocks: every model fits one launch
  switch (rule) {
    case OptimizerRule::Sgd: return launch<OptimizerRule::Sgd>(table, chunks, k, state, stream);
    case OptimizerRule::Momentum:
      return launch<OptimizerRule::Momentum>(table, chunks, k, state, stream);
    case OptimizerRule::Nesterov:
      return launch<OptimizerRule::Nesterov>(table, chunks, k, state, stream);
    case OptimizerRule::Adagrad:
      return launch<OptimizerRule::Adagrad>(table, chunks, k, state, stream);
    case OptimizerRule::RmsProp:
      return launch<OptimizerRule::RmsProp>(table, chunks, k, state, stream);
    case OptimizerRule::Adadelta:
      return launch<OptimizerRule::Adadelta>(table, chunks, k, state, stream);
    case OptimizerRule::Adam: return launch<OptimizerRule::Adam>(table, chunks, k, state, stream);
    case OptimizerRule::AdamW:
      return launch<OptimizerRule::AdamW>(table, chunks, k, state, stream);
    case OptimizerRule::Yogi: return launch<OptimizerRule::Yogi>(table, chunks, k, state, stream);
  }
}

}  // namespace cutrain::kernels
