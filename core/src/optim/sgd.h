// Plain SGD over a multi-tensor chunk table (kernels/sgd_update.h).
#pragma once

#include <vector>

#include "cutrain/optim/optimizer.h"
#include "multi_tensor.h"

namespace cutrain {

class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Parameter> params, SgdOptions options, Context& ctx);
  std::string name() const override { return "sgd"; }
  void set_lr(double lr) override;
  double lr() const override { return options_.lr; }
  void step(Context& ctx) override;
  int64_t steps() const override { return steps_; }

 private:
  std::vector<Parameter> params_;
  SgdOptions options_;
  std::vector<kernels::TensorChunk> table_;
  Tensor device_table_;  // the chunk table as raw bytes in device memory (CUDA only)
  Tensor device_lr_;     // one float the kernel reads, so graph replays see new values
  float lr_value_ = 0.0f;
  int64_t steps_ = 0;
};

}  // namespace cutrain
