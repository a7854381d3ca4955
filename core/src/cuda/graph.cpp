#include "cuda/graph.h"

#include <utility>

#include "cuda/check.h"

namespace cutrain::detail {
namespace {

// Destroys a captured (not instantiated) graph on every path out of the constructor.
struct GraphOwner {
  cudaGraph_t g = nullptr;
  ~GraphOwner() {
    if (g) CUTRAIN_CUDA_LOG(cudaGraphDestroy(g));
  }
};

}  // namespace

CudaGraph::CudaGraph(cudaStream_t stream, const std::function<void()>& enqueue) {
  // Thread-local mode: only this thread's calls are checked for capture safety.
  CUTRAIN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  GraphOwner graph;
  try {
    enqueue();
    CUTRAIN_CUDA_CHECK(cudaStreamEndCapture(stream, &graph.g));
    CUTRAIN_CUDA_CHECK(cudaGraphGetNodes(graph.g, nullptr, &nodes_));
    CUTRAIN_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph.g, 0));
  } catch (...) {
    // Leave capture mode (if an error inside enqueue() got here first) and clear the error a
    // forbidden call records as the thread's last error: otherwise the next launch check, e.g.
    // of the eager fallback, would report this failure as its own. Capture errors are not
    // sticky; the stream and context stay usable.
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
        status != cudaStreamCaptureStatusNone) {
      cudaGraph_t partial = nullptr;
      cudaStreamEndCapture(stream, &partial);
      if (partial) cudaGraphDestroy(partial);
    }
    cudaGetLastError();
    throw;
  }
}

CudaGraph::~CudaGraph() {
  if (exec_) CUTRAIN_CUDA_LOG(cudaGraphExecDestroy(exec_));
}
CudaGraph::CudaGraph(CudaGraph&& o) noexcept
    : exec_(std::exchange(o.exec_, nullptr)), nodes_(o.nodes_) {}
CudaGraph& CudaGraph::operator=(CudaGraph&& o) noexcept {
  std::swap(exec_, o.exec_);
  std::swap(nodes_, o.nodes_);
  return *this;
}

void CudaGraph::launch(cudaStream_t stream) const {
  CUTRAIN_CUDA_CHECK(cudaGraphLaunch(exec_, stream));
}

}  // namespace cutrain::detail
