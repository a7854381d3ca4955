#include "train/step_graphs.h"

#include <algorithm>
#include <cstdio>

#include "context_impl.h"
#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include "cuda/graph.h"
#endif

namespace cutrain::detail {

#if !CUTRAIN_WITH_CUDA
class CudaGraph {};  // never created: graphs need the CUDA backend
#endif

StepGraphs::StepGraphs(bool enabled, Context& ctx) : enabled_(enabled), ctx_(ctx) {
  if (enabled && !ctx.is_cuda()) throw ConfigError("--cuda-graph needs --device cuda");
}

StepGraphs::~StepGraphs() = default;

void StepGraphs::run(int64_t key, const std::function<void()>& work) {
  if (!enabled_) {
    work();
    return;
  }
#if CUTRAIN_WITH_CUDA
  const int64_t generation = workspace_generation(ctx_);
  if (generation != generation_) {  // graphs captured before hold the old workspace pointer
    entries_.clear();
    generation_ = generation;
  }
  if (eager_keys_.count(key) != 0) {  // its capture failed earlier
    work();
    return;
  }
  Entry& e = entries_[key];
  if (!e.graph && ++e.uses < 2) {
    work();  // warm-up: plans, modules and workspaces are created here, outside any capture
    return;
  }
  if (!e.graph) {
    try {
      e.graph = std::make_unique<CudaGraph>(ctx_.stream(), work);
      ++captures_;
      max_nodes_ = std::max(max_nodes_, static_cast<int64_t>(e.graph->nodes()));
    } catch (const DeviceError& err) {
      // Nothing ran during the failed capture (it only recorded), so running the work now
      // performs this step exactly once.
      std::fprintf(stderr,
                   "cutrain: CUDA graph capture failed, running batch key %lld eagerly: %s\n",
                   static_cast<long long>(key), err.what());
      eager_keys_.insert(key);
      ++failed_captures_;
      work();
      return;
    }
  }
  e.graph->launch(ctx_.stream());
  ++replays_;
#else
  work();
#endif
}

void StepGraphs::clear() {
  if (entries_.empty()) return;
  ctx_.synchronize();  // a replay in flight still uses its graph's buffers
  entries_.clear();
}

}  // namespace cutrain::detail
