#include "cutrain/train/checkpoint.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cutrain/error.h"
#include "cutrain/io/safetensors.h"
#include "io/parse_double.h"

namespace cutrain {
namespace {

constexpr const char* kFormat = "cutrain-checkpoint-1";
constexpr const char* kOptimizerPrefix = "optimizer.";

std::string meta(const SafetensorsFile& f, const std::string& path, const std::string& key) {
  const auto it = f.metadata.find(key);
  if (it == f.metadata.end())
    throw DataError(path + ": not a cutrain checkpoint (metadata '" + key + "' missing)");
  return it->second;
}

int64_t meta_int(const SafetensorsFile& f, const std::string& path, const std::string& key) {
  const std::string text = meta(f, path, key);
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw DataError(path + ": metadata '" + key + "' is not a count: '" + text + "'");
}

double meta_double(const SafetensorsFile& f, const std::string& path, const std::string& key) {
  const std::string text = meta(f, path, key);
  const std::optional<double> v = detail::parse_whole_double(text);
  if (v && std::isfinite(*v)) return *v;
  throw DataError(path + ": metadata '" + key + "' is not a number: '" + text + "'");
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);  // round-trips every double
  return buf;
}

CheckpointInfo info_of(const SafetensorsFile& f, const std::string& path) {
  if (meta(f, path, "format") != kFormat)
    throw DataError(path + ": checkpoint format '" + meta(f, path, "format") + "', expected " +
                    kFormat);
  CheckpointInfo info{meta(f, path, "model"), meta_int(f, path, "epoch"), meta(f, path, "config")};
  if (f.metadata.count("batches_done")) {
    info.batches_done = meta_int(f, path, "batches_done");
    info.loss_sum = meta_double(f, path, "loss_sum");
    info.hits = meta_double(f, path, "hits");
  }
  return info;
}

// The model tensor an optimizer slot "<param>.<slot>" belongs to, if any.
const NamedTensor* parameter_of(const std::vector<NamedTensor>& tensors, const std::string& slot) {
  const std::string param = slot.substr(0, slot.rfind('.'));
  for (const NamedTensor& t : tensors)
    if (t.name == param) return &t;
  return nullptr;
}

}  // namespace

void save_checkpoint(const std::string& path, const CheckpointInfo& info, Sequential& model,
                     const Optimizer* optimizer, const Scheduler* scheduler, Context& ctx) {
  SafetensorsFile f;
  f.metadata = {{"format", kFormat},
                {"model", info.model},
                {"epoch", std::to_string(info.epoch)},
                {"config", info.config_json},
                {"batches_done", std::to_string(info.batches_done)},
                {"loss_sum", exact(info.loss_sum)},
                {"hits", exact(info.hits)}};
  const std::vector<NamedTensor> state = model.state_tensors();
  for (const NamedTensor& t : state)
    f.tensors.push_back({t.name, t.tensor->shape(), t.tensor->to_vector(ctx.stream())});
  if (optimizer) {
    const OptimizerState s = optimizer->save_state(ctx);
    f.metadata["optimizer"] = optimizer->name();
    f.metadata["optimizer_steps"] = std::to_string(s.steps);
    for (const auto& [name, values] : s.tensors) {
      // Slot "<param>.<slot>" in its parameter's shape (as PyTorch's optimizer state is).
      const NamedTensor* param = parameter_of(state, name);
      f.tensors.push_back(
          {kOptimizerPrefix + name,
           param ? param->tensor->shape() : Shape{static_cast<int64_t>(values.size())}, values});
    }
  }
  if (scheduler) f.metadata["scheduler_state"] = nlohmann::json(scheduler->state()).dump();
  write_safetensors(path, f);
}

CheckpointInfo read_checkpoint_info(const std::string& path) {
  return info_of(read_safetensors(path), path);
}

CheckpointInfo load_checkpoint(const std::string& path, Sequential& model, Optimizer* optimizer,
                               Scheduler* scheduler, Context& ctx) {
  const SafetensorsFile f = read_safetensors(path);
  const CheckpointInfo info = info_of(f, path);

  // Validate everything first.
  const std::vector<NamedTensor> wanted = model.state_tensors();
  for (const NamedTensor& t : wanted) {
    const NamedArray* a = f.find(t.name);
    if (!a)
      throw DataError(path + ": tensor '" + t.name +
                      "' of model is missing (the checkpoint is of '" + info.model + "')");
    if (a->shape != t.tensor->shape())
      throw DataError(path + ": tensor '" + t.name + "' has shape " + to_string(a->shape) +
                      ", the model needs " + to_string(t.tensor->shape()) +
                      " (the checkpoint is of '" + info.model + "')");
  }
  size_t model_tensors = 0;
  for (const NamedArray& a : f.tensors)
    if (a.name.rfind(kOptimizerPrefix, 0) != 0) ++model_tensors;
  if (model_tensors != wanted.size())
    throw DataError(path + ": holds " + std::to_string(model_tensors) +
                    " model tensors, the model has " + std::to_string(wanted.size()) +
                    " (the checkpoint is of '" + info.model + "')");
  OptimizerState opt_state;
  if (optimizer) {
    if (meta(f, path, "optimizer") != optimizer->name())
      throw DataError(path + ": optimizer state is of '" + meta(f, path, "optimizer") +
                      "', the run uses '" + optimizer->name() + "'");
    opt_state.steps = meta_int(f, path, "optimizer_steps");
    for (const auto& [name, values] : optimizer->save_state(ctx).tensors) {
      const NamedArray* a = f.find(kOptimizerPrefix + name);
      if (!a) throw DataError(path + ": optimizer tensor '" + name + "' is missing");
      if (a->values.size() != values.size())
        throw DataError(path + ": optimizer tensor '" + name + "' has " +
                        std::to_string(a->values.size()) + " values, the optimizer keeps " +
                        std::to_string(values.size()));
      // Its parameter's shape, or flat (files written before 2026-12-03). Another shape with
      // the same count is a damaged file or another model's, whose values would land on the
      // wrong weights.
      const NamedTensor* param = parameter_of(wanted, name);
      const Shape flat{static_cast<int64_t>(values.size())};
      if (param && a->shape != param->tensor->shape() && a->shape != flat)
        throw DataError(path + ": optimizer tensor '" + name + "' has shape " +
                        to_string(a->shape) + ", its parameter " +
                        to_string(param->tensor->shape()));
      opt_state.tensors.emplace_back(name, a->values);
    }
  }
  SchedulerState sched_state;
  if (scheduler) {
    const auto stored = f.metadata.find("scheduler_state");
    if (stored == f.metadata.end()) {
      if (!scheduler->state().empty())
        throw DataError(path + ": holds no scheduler state, and the run's scheduler " +
                        scheduler->describe() + " keeps state that a resumed run must restore");
    } else {
      try {
        sched_state = nlohmann::json::parse(stored->second).get<SchedulerState>();
      } catch (const nlohmann::json::exception& e) {
        throw DataError(path + ": scheduler_state is not a JSON object of numbers: " + e.what());
      }
    }
  }

  // Then apply. The scheduler goes first: its load_state checks its keys before changing
  // anything, and everything after it has been validated above.
  if (scheduler) {
    try {
      scheduler->load_state(sched_state);
    } catch (const DataError& e) {
      throw DataError(path + ": " + e.what());
    }
  }
  if (optimizer) optimizer->load_state(opt_state, ctx);
  for (const NamedTensor& t : wanted) {
    const NamedArray* a = f.find(t.name);
    t.tensor->copy_from_host(a->values.data(), t.tensor->numel(), ctx.stream());
  }
  ctx.synchronize();
  return info;
}

}  // namespace cutrain
