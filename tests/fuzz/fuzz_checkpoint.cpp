// load_checkpoint on arbitrary file contents, into a small model with an Adam optimizer and a
// reduce-on-plateau scheduler (the kinds with the most state): loads, or throws DataError
// naming the file and leaves model, optimizer and scheduler exactly as they were. A checkpoint
// that loaded can be saved and loaded again.
#include <cstring>
#include <memory>
#include <vector>

#include "cutrain/error.h"
#include "cutrain/models/activation.h"
#include "cutrain/models/batchnorm.h"
#include "cutrain/models/linear.h"
#include "cutrain/train/checkpoint.h"
#include "fuzz_target.h"

namespace cutrain::fuzz {
namespace {

struct Run {
  Context ctx{Device::CPU};
  Sequential model;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<Scheduler> scheduler;

  Run() {
    model.add(std::make_unique<Linear>(3, 4));
    model.add(BatchNorm1d(4));
    model.add(std::make_unique<ActivationLayer>(ActivationKind::ReLU));
    model.add(std::make_unique<Linear>(4, 2));
    model.build({3}, 2, Device::CPU, 7);
    optimizer = make_optimizer("adam", model.parameters(), 0.01, ctx);
    scheduler = make_scheduler("plateau:patience=2", 0.01);
  }

  // Everything a load may change, as plain values.
  struct Snapshot {
    std::vector<std::vector<float>> tensors;
    OptimizerState optimizer;
    SchedulerState scheduler;
    // Bit for bit: a checkpoint may hold NaNs, which == on floats never matches.
    static bool same(const std::vector<float>& a, const std::vector<float>& b) {
      return a.size() == b.size() &&
             (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }
    bool operator==(const Snapshot& o) const {
      if (tensors.size() != o.tensors.size() || optimizer.steps != o.optimizer.steps ||
          optimizer.tensors.size() != o.optimizer.tensors.size() || scheduler != o.scheduler)
        return false;
      for (size_t i = 0; i < tensors.size(); ++i)
        if (!same(tensors[i], o.tensors[i])) return false;
      for (size_t i = 0; i < optimizer.tensors.size(); ++i)
        if (optimizer.tensors[i].first != o.optimizer.tensors[i].first ||
            !same(optimizer.tensors[i].second, o.optimizer.tensors[i].second))
          return false;
      return true;
    }
  };
  Snapshot snapshot() {
    Snapshot s;
    for (const NamedTensor& t : model.state_tensors()) s.tensors.push_back(t.tensor->to_vector());
    s.optimizer = optimizer->save_state(ctx);
    s.scheduler = scheduler->state();
    return s;
  }
};

Run& run() {
  static Run r;
  return r;
}

}  // namespace

void write_fuzz_seeds(const std::filesystem::path& dir) {
  Run& r = run();
  r.scheduler->observe(1.0);
  r.scheduler->observe(2.0);
  save_checkpoint((dir / "full").string(), {"tiny", 2, "{\"lr\":0.01}"}, r.model, r.optimizer.get(),
                  r.scheduler.get(), r.ctx);
  CheckpointInfo stopped{"tiny", 1, "{}"};
  stopped.batches_done = 3, stopped.loss_sum = 1.5, stopped.hits = 4;
  save_checkpoint((dir / "stopped_mid_epoch").string(), stopped, r.model, r.optimizer.get(),
                  r.scheduler.get(), r.ctx);
  // Without scheduler state: refused by a run whose scheduler has state to restore.
  save_checkpoint((dir / "reject_no_scheduler_state").string(), stopped, r.model, r.optimizer.get(),
                  nullptr, r.ctx);
  // Without optimizer state: refused by a run that has an optimizer.
  save_checkpoint((dir / "reject_model_only").string(), {"tiny", 1, "{}"}, r.model, nullptr,
                  nullptr, r.ctx);
}

}  // namespace cutrain::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cutrain;
  using namespace cutrain::fuzz;
  Run& r = run();
  const std::string path = scratch_path(".safetensors");
  write_file(path, data, size);
  const Run::Snapshot before = r.snapshot();
  CheckpointInfo info;
  const bool loaded = loads_or_rejects<DataError>(path, [&] {
    info = load_checkpoint(path, r.model, r.optimizer.get(), r.scheduler.get(), r.ctx);
  });
  if (!loaded) {
    check(r.snapshot() == before,
          "a rejected checkpoint changed the model, optimizer or scheduler");
    return 0;
  }
  const Run::Snapshot after = r.snapshot();
  const std::string again = scratch_path(".resaved.safetensors");
  save_checkpoint(again, info, r.model, r.optimizer.get(), r.scheduler.get(), r.ctx);
  const bool reloaded = loads_or_rejects<DataError>(
      again, [&] { load_checkpoint(again, r.model, r.optimizer.get(), r.scheduler.get(), r.ctx); });
  check(reloaded, "a loaded checkpoint, saved again, does not load");
  check(r.snapshot() == after, "save + load of a loaded checkpoint changed the state");
  return 0;
}
