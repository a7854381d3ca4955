// FusedOptimizer: every rule of optimizer_math.h over one multi-tensor chunk table. State
// tensors are allocated once, the table is built once and (on CUDA) copied to the device once.
#pragma once

#include <vector>

#include "cutrain/optim/optimizer.h"
#include "multi_tensor.h"
#include "optimizer_math.h"

namespace cutrain {

/// The rule behind an optimizer name (the factory's table); ConfigError naming --optimizer and
/// the names available when there is none.
kernels::OptimizerRule optimizer_rule(const std::string& name);

class FusedOptimizer final : public Optimizer {
 public:
  FusedOptimizer(std::string name, kernels::OptimizerRule rule, std::vector<ParamGroup> groups,
                 const OptimizerOptions& options, Context& ctx);
  std::string name() const override { return name_; }
  void set_lr(double lr) override;
  double lr() const override { return lr_; }
  void prepare_step(Context& ctx) override;
  void enqueue_step(Context& ctx) override;
  int64_t steps() const override { return steps_; }
  double last_grad_norm(Context& ctx) const override;
  OptimizerState save_state(Context& ctx) const override;
  void load_state(const OptimizerState& state, Context& ctx) override;

 private:
  struct Slot {
    std::string name;  // "<param>.<state>"
    Tensor tensor;
  };

  std::string name_;
  kernels::OptimizerRule rule_;
  kernels::RuleConstants constants_;
  double lr_;
  float clip_norm_;
  int64_t steps_ = 0;
  std::vector<Slot> state_;
  std::vector<kernels::TensorChunk> table_;
  kernels::StepState host_state_;  // the CPU path's StepState
  double uploaded_lr_ = -1.0;        // lr last written into device_state_ (-1: none yet)
  std::vector<float> host_partials_;
  // CUDA only: the table as raw bytes, the StepState the kernels read, norm partials.
  Tensor device_table_, device_state_, device_partials_;
};

}  // namespace cutrain
