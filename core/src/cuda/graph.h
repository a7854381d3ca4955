// RAII owner of an instantiated CUDA graph captured from a stream. Private.
//
// Capture records the kernels, copies and library calls that `enqueue` puts on the stream
// without running them; every launch then replays them with the pointers and scalar arguments
// of the capture. So what changes between replays must live in device memory (the optimizer's
// lr and step, the batch in static input buffers), and nothing in `enqueue` may allocate,
// synchronise or read device memory from the host.
#pragma once

#include <cuda_runtime.h>

#include <functional>

namespace cutrain::detail {

class CudaGraph {
 public:
  /// Captures `enqueue`'s work on `stream` and instantiates it. Throws DeviceError naming the
  /// failed call (e.g. an operation that is not allowed during capture); the stream is left
  /// out of capture mode either way.
  CudaGraph(cudaStream_t stream, const std::function<void()>& enqueue);
  ~CudaGraph();
  CudaGraph(CudaGraph&& o) noexcept;
  CudaGraph& operator=(CudaGraph&& o) noexcept;
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  /// Replays the captured work on `stream` (asynchronous).
  void launch(cudaStream_t stream) const;
  /// Kernel, memcpy and other nodes in the captured graph.
  size_t nodes() const { return nodes_; }

 private:
  cudaGraphExec_t exec_ = nullptr;
  size_t nodes_ = 0;
};

}  // namespace cutrain::detail
