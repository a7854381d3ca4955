#include "optim/sgd.h"

#include <cmath>

#include "cutrain/error.h"
#include "sgd_update.h"

namespace cutrain {

namespace {
void validate_lr(double lr) {
  if (!std::isfinite(lr) || lr < 0.0)
    throw ConfigError("--lr: expected a finite learning rate >= 0, got " + std::to_string(lr));
}
}  // namespace

Sgd::Sgd(std::vector<Parameter> params, SgdOptions options, Context& ctx)
    : params_(std::move(params)), options_(options) {
  validate_lr(options_.lr);
  lr_value_ = static_cast<float>(options_.lr);
  std::vector<kernels::TensorSlot> slots;
  for (const Parameter& p : params_) {
    if (!p.value || !p.grad || p.value->numel() != p.grad->numel())
      throw ConfigError("optimizer: parameter '" + p.name + "' has no gradient of its size");
    if (p.value->device() != ctx.device())
      throw ConfigError("optimizer: parameter '" + p.name + "' is on " +
                        device_name(p.value->device()) + ", the context on " +
                        device_name(ctx.device()));
    slots.push_back({p.value->data(), p.grad->data(), {nullptr, nullptr}, p.value->numel()});
  }
  table_ = kernels::build_chunk_table(slots);
  if (ctx.is_cuda()) {
    static_assert(sizeof(kernels::TensorChunk) % sizeof(float) == 0, "table is copied as floats");
    const int64_t words =
        static_cast<int64_t>(table_.size() * sizeof(kernels::TensorChunk) / sizeof(float));
    device_table_ = Tensor(Shape{std::max<int64_t>(words, 1)}, Device::CUDA);
    device_table_.copy_from_host(reinterpret_cast<const float*>(table_.data()), words,
                                 ctx.stream());
    device_lr_ = Tensor(Shape{1}, Device::CUDA);
  }
}

void Sgd::set_lr(double lr) {
  validate_lr(lr);
  options_.lr = lr;
  lr_value_ = static_cast<float>(lr);
}

void Sgd::step(Context& ctx) {
  const auto chunks = static_cast<int64_t>(table_.size());
  if (ctx.is_cuda()) {
    device_lr_.copy_from_host(&lr_value_, 1, ctx.stream());
    kernels::launch_sgd_update(reinterpret_cast<const kernels::TensorChunk*>(device_table_.data()),
                               chunks, device_lr_.data(), ctx.stream());
  } else {
    kernels::sgd_update_cpu(table_.data(), chunks, &lr_value_);
  }
  ++steps_;
}

std::vector<std::string> optimizer_names() { return {"sgd"}; }

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<Parameter> params,
                                          double lr, Context& ctx) {
  if (name == "sgd") return std::make_unique<Sgd>(std::move(params), SgdOptions{lr}, ctx);
  throw ConfigError("--optimizer: unknown optimizer '" + name + "' (available: sgd)");
}

}  // namespace cutrain
