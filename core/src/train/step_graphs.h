// StepGraphs: the per-batch work of a pipeline (forward + loss [+ backward + optimizer]) as CUDA
// graphs, one per key (BatchPipeline's: batch size, kind and the layers' training modes; clear()
// drops them all when the optimizer changes), so that a step costs one graph launch instead of
// dozens of kernel launches. A key's first use runs eagerly: it creates cuDNN plans, loads
// kernels and sizes workspaces, none of which may happen during a capture. Its second use is
// captured and replayed, and so is every later one. A reallocated shared workspace
// (detail::workspace_generation) makes every graph stale: they are dropped and recaptured.
// A capture that fails (a library call that capture forbids) is reported once on stderr and its
// key runs eagerly from then on: same results, only slower. Disabled (or on the CPU) it just runs
// the work. Private.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>

#include "cutrain/context.h"

namespace cutrain::detail {

class CudaGraph;

class StepGraphs {
 public:
  StepGraphs(bool enabled, Context& ctx);
  ~StepGraphs();
  StepGraphs(const StepGraphs&) = delete;
  StepGraphs& operator=(const StepGraphs&) = delete;

  bool enabled() const { return enabled_; }
  /// Queues `work` on ctx's stream: eagerly, or by capturing or replaying the graph of `key`.
  /// `work` must queue the same operations on the same buffers every time it is called with
  /// the same key.
  void run(int64_t key, const std::function<void()>& work);
  /// Drops every graph (after the work queued on ctx's stream): the next uses recapture.
  void clear();
  int64_t captures() const { return captures_; }
  int64_t replays() const { return replays_; }
  /// Keys whose capture failed and that run eagerly instead.
  int64_t failed_captures() const { return failed_captures_; }
  /// Nodes (kernels, memsets, copies) of the largest graph captured so far: what one replay
  /// launches, i.e. the launches per step of the largest batch shape.
  int64_t max_nodes() const { return max_nodes_; }

 private:
  struct Entry {
    int64_t uses = 0;
    std::unique_ptr<CudaGraph> graph;
  };
  bool enabled_;
  Context& ctx_;
  std::map<int64_t, Entry> entries_;
  std::set<int64_t> eager_keys_;  // their capture failed; kept when entries_ is cleared
  int64_t generation_ = -1;
  int64_t captures_ = 0, replays_ = 0, failed_captures_ = 0, max_nodes_ = 0;
};

}  // namespace cutrain::detail
