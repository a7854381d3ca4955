// Checkpoints: one safetensors file holding the model's state_dict (PyTorch key names, F32,
// loadable by Python's `safetensors`), the optimizer's state tensors ("optimizer.<param>.<slot>")
// and, in __metadata__, the epoch, the optimizer step count, the scheduler state and the run's
// configuration as JSON. Written to a temporary file and renamed: a crash never leaves a broken
// checkpoint behind, and the previous one stays until the new one is complete.
#pragma once

#include <cstdint>
#include <string>

#include "cutrain/context.h"
#include "cutrain/models/sequential.h"
#include "cutrain/optim/optimizer.h"
#include "cutrain/schedule/scheduler.h"

namespace cutrain {

struct CheckpointInfo {
  std::string model;        ///< registry name, e.g. "lenet"
  int64_t epoch = 0;        ///< completed epochs
  std::string config_json;  ///< the configuration the run was started with
  /// For a run stopped inside epoch `epoch + 1` (SIGINT): updates of it already applied and
  /// their summed loss and hits, so the resumed epoch reports what an uninterrupted one would.
  int64_t batches_done = 0;
  double loss_sum = 0.0, hits = 0.0;
};

void save_checkpoint(const std::string& path, const CheckpointInfo& info, Sequential& model,
                     const Optimizer* optimizer, const Scheduler* scheduler, Context& ctx);

/// Reads only what a checkpoint says about itself (to rebuild the model it needs).
CheckpointInfo read_checkpoint_info(const std::string& path);

/// Restores the model (and, when given, optimizer and scheduler). Everything is validated
/// before anything is changed: a file from another model, a missing or mis-shaped tensor, a
/// truncated file or a bad header is a DataError naming the file and the tensor.
CheckpointInfo load_checkpoint(const std::string& path, Sequential& model, Optimizer* optimizer,
                               Scheduler* scheduler, Context& ctx);

}  // namespace cutrain
