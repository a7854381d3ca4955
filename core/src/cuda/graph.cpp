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
  } catch (...) {
    cudaStreamEndCapture(stream, &graph.g);  // leave capture mode; the first error is thrown
    cudaGetLastError();
    throw;
  }
  CUTRAIN_CUDA_CHECK(cudaStreamEndCapture(stream, &graph.g));
  CUTRAIN_CUDA_CHECK(cudaGraphGetNodes(graph.g, nullptr, &nodes_));
  CUTRAIN_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph.g, 0));
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
