#include "optim/fused_optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cutrain/error.h"
#include "grad_norm.h"
#include "nvtx_range.h"
#include "optimizer_update.h"

namespace cutrain {
namespace {

// Raw structs travel in float tensors (Tensor is float32-only).
template <typename T>
int64_t words_of(size_t count) {
  static_assert(sizeof(T) % sizeof(float) == 0, "copied as floats");
  return static_cast<int64_t>(count * sizeof(T) / sizeof(float));
}

const char* state_name(kernels::OptimizerRule rule, int k) {
  using R = kernels::OptimizerRule;
  switch (rule) {
    case R::Momentum:
    case R::Nesterov: return "v";
    case R::Adagrad:
    case R::RmsProp: return "s";
    case R::Adadelta: return k == 0 ? "s" : "delta";
    default: return k == 0 ? "v" : "s";
  }
}

}  // namespace

FusedOptimizer::FusedOptimizer(std::string name, kernels::OptimizerRule rule,
                               std::vector<ParamGroup> groups, const OptimizerOptions& o,
                               Context& ctx)
    : name_(std::move(name)), rule_(rule), lr_(*o.lr), clip_norm_(static_cast<float>(o.clip_norm)) {
  using R = kernels::OptimizerRule;
  constants_.beta1 = static_cast<float>(rule == R::Momentum || rule == R::Nesterov ? o.momentum
                                                                                    : o.beta1);
  constants_.beta2 = static_cast<float>(rule == R::RmsProp    ? o.gamma
                                        : rule == R::Adadelta ? o.rho
                                                              : o.beta2);
  constants_.eps = static_cast<float>(*o.eps);
  set_lr(*o.lr);

  const int n_state = kernels::state_tensors(rule);
  std::vector<kernels::TensorSlot> slots;
  for (const ParamGroup& g : groups) {
    for (const Parameter& p : g.params) {
      if (!p.value || !p.grad || p.value->numel() != p.grad->numel())
        throw ConfigError("optimizer: parameter '" + p.name + "' has no gradient of its size");
      if (p.value->device() != ctx.device())
        throw ConfigError("optimizer: parameter '" + p.name + "' is on " +
                          device_name(p.value->device()) + ", the context on " +
                          device_name(ctx.device()));
      kernels::TensorSlot s{p.value->data(), p.grad->data(), {nullptr, nullptr},
                            p.value->numel()};
      s.lr_scale = static_cast<float>(g.lr_scale);
      s.weight_decay = static_cast<float>(g.weight_decay.value_or(o.weight_decay));
      for (int k = 0; k < n_state; ++k) {
        state_.push_back({p.name + "." + state_name(rule, k),
                          Tensor::zeros(p.value->shape(), ctx.device())});
        s.state[k] = state_.back().tensor.data();
      }
      slots.push_back(s);
    }
  }
  table_ = kernels::build_chunk_table(slots);
  host_partials_.resize(table_.size());
  if (ctx.is_cuda()) {
    const int64_t words = words_of<kernels::TensorChunk>(table_.size());
    device_table_ = Tensor(Shape{std::max<int64_t>(words, 1)}, Device::CUDA);
    device_table_.copy_from_host(reinterpret_cast<const float*>(table_.data()), words);
    device_state_ = Tensor::zeros(Shape{words_of<kernels::StepState>(1)}, Device::CUDA);
    device_partials_ = Tensor(Shape{std::max<int64_t>(static_cast<int64_t>(table_.size()), 1)},
                              Device::CUDA);
  }
}

void FusedOptimizer::set_lr(double lr) {
  if (!std::isfinite(lr) || lr < 0.0)
    throw ConfigError("--lr: expected a finite learning rate >= 0, got " + std::to_string(lr));
  lr_ = lr;
}

void FusedOptimizer::prepare_step(Context& ctx) {
  ++steps_;
  if (!ctx.is_cuda()) {
    host_state_.lr = static_cast<float>(lr_);
    return;
  }
  if (lr_ != uploaded_lr_) {
    kernels::launch_set_step_state(reinterpret_cast<kernels::StepState*>(device_state_.data()),
                                   /*set_lr=*/true, static_cast<float>(lr_), /*set_step=*/false,
                                   0, ctx.stream());
    uploaded_lr_ = lr_;
  }
}

void FusedOptimizer::enqueue_step(Context& ctx) {
  const detail::NvtxRange range("optimizer/step");
  const auto chunks = static_cast<int64_t>(table_.size());
  if (ctx.is_cuda()) {
    auto* state = reinterpret_cast<kernels::StepState*>(device_state_.data());
    auto* table = reinterpret_cast<const kernels::TensorChunk*>(device_table_.data());
    kernels::launch_begin_step(state, ctx.stream());
    if (clip_norm_ > 0.0f)
      kernels::launch_clip_grad_norm(table, chunks, clip_norm_, device_partials_.data(), state,
                                     ctx.stream());
    kernels::launch_multi_tensor_update(rule_, table, chunks, constants_, state, ctx.stream());
  } else {
    kernels::begin_step(host_state_);
    if (clip_norm_ > 0.0f)
      kernels::clip_grad_norm_cpu(table_.data(), chunks, clip_norm_, host_partials_.data(),
                                  &host_state_);
    kernels::multi_tensor_update_cpu(rule_, table_.data(), chunks, constants_, &host_state_);
  }
}

double FusedOptimizer::last_grad_norm(Context& ctx) const {
  if (!ctx.is_cuda()) return host_state_.grad_norm;
  const std::vector<float> words = device_state_.to_vector(ctx.stream());
  kernels::StepState s;
  std::memcpy(static_cast<void*>(&s), words.data(), sizeof s);
  return s.grad_norm;
}

OptimizerState FusedOptimizer::save_state(Context& ctx) const {
  OptimizerState out;
  out.steps = steps_;
  for (const Slot& s : state_) out.tensors.emplace_back(s.name, s.tensor.to_vector(ctx.stream()));
  return out;
}

void FusedOptimizer::load_state(const OptimizerState& in, Context& ctx) {
  if (in.tensors.size() != state_.size())
    throw DataError("optimizer state: " + name_ + " keeps " + std::to_string(state_.size()) +
                    " tensors, the saved state has " + std::to_string(in.tensors.size()));
  for (size_t i = 0; i < state_.size(); ++i) {
    const auto& [name, values] = in.tensors[i];
    if (name != state_[i].name || static_cast<int64_t>(values.size()) != state_[i].tensor.numel())
      throw DataError("optimizer state: expected tensor '" + state_[i].name + "' of " +
                      std::to_string(state_[i].tensor.numel()) + " values, found '" + name +
                      "' of " + std::to_string(values.size()));
  }
  if (in.steps < 0) throw DataError("optimizer state: negative step count");
  // On the compute stream: steps still queued there must not overwrite the loaded state.
  for (size_t i = 0; i < state_.size(); ++i)
    state_[i].tensor.copy_from_host(in.tensors[i].second.data(), state_[i].tensor.numel(),
                                    ctx.stream());
  steps_ = in.steps;
  host_state_.step = static_cast<int32_t>(steps_);
  if (ctx.is_cuda()) {
    kernels::launch_set_step_state(reinterpret_cast<kernels::StepState*>(device_state_.data()),
                                   /*set_lr=*/false, 0.0f, /*set_step=*/true,
                                   static_cast<int32_t>(steps_), ctx.stream());
  }
  ctx.synchronize();
}

}  // namespace cutrain
