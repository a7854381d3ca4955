#include "optimizer_update.h"

namespace cutrain::kernels {
namespace {

template <OptimizerRule R>
void update_chunks(const TensorChunk* table, int64_t chunks, const RuleConstants& k,
                   const StepState& st) {
  const float bc1 = bias_correction(k.beta1, st.step), bc2 = bias_correction(k.beta2, st.step);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const TensorChunk& chunk = table[c];
    const ElementContext e{k, st.lr * chunk.lr_scale, chunk.weight_decay, bc1, bc2};
    float* s0 = chunk.state[0];
    float* s1 = chunk.state[1];
    for (int64_t i = 0; i < chunk.length; ++i) {
      float a = s0 ? s0[i] : 0.0f, b = s1 ? s1[i] : 0.0f;
      update_element<R>(e, chunk.param[i], chunk.grad[i] * st.grad_scale, a, b);
      if (s0) s0[i] = a;
      if (s1) s1[i] = b;
    }
  }
}

}  // namespace

void multi_tensor_update_cpu(OptimizerRule rule, const TensorChunk* table, int64_t chunks,
                             const RuleConstants& k, const StepState* state) {
  switch (rule) {
    case OptimizerRule::Sgd: return update_chunks<OptimizerRule::Sgd>(table, chunks, k, *state);
    case OptimizerRule::Momentum:
      return update_chunks<OptimizerRule::Momentum>(table, chunks, k, *state);
    case OptimizerRule::Nesterov:
      return update_chunks<OptimizerRule::Nesterov>(table, chunks, k, *state);
    case OptimizerRule::Adagrad:
      return update_chunks<OptimizerRule::Adagrad>(table, chunks, k, *state);
    case OptimizerRule::RmsProp:
      return update_chunks<OptimizerRule::RmsProp>(table, chunks, k, *state);
    case OptimizerRule::Adadelta:
      return update_chunks<OptimizerRule::Adadelta>(table, chunks, k, *state);
    case OptimizerRule::Adam: return update_chunks<OptimizerRule::Adam>(table, chunks, k, *state);
    case OptimizerRule::AdamW:
      return update_chunks<OptimizerRule::AdamW>(table, chunks, k, *state);
    case OptimizerRule::Yogi: return update_chunks<OptimizerRule::Yogi>(table, chunks, k, *state);
  }
}

}  // namespace cutrain::kernels
