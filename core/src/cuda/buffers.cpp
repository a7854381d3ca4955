#include "cuda/buffers.h"

#include <algorithm>
#include <string>
#include <utility>

#include "cuda/check.h"
#include "cutrain/error.h"
#include "cutrain/memory_stats.h"

namespace cutrain::detail {

template <BufferKind K>
RawBuffer<K>::RawBuffer(size_t bytes) : bytes_(bytes) {
  const size_t n = std::max<size_t>(bytes, 16);
  const cudaError_t err = K == BufferKind::Device ? cudaMalloc(&p_, n) : cudaMallocHost(&p_, n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    p_ = nullptr;
    throw DeviceError(std::string(K == BufferKind::Device ? "cudaMalloc" : "cudaMallocHost") +
                      " of " + std::to_string(bytes) + " bytes failed: " +
                      cudaGetErrorString(err));
  }
  if (K == BufferKind::Device) note_tensor_alloc(Device::CUDA, static_cast<int64_t>(bytes_));
}

template <BufferKind K>
RawBuffer<K>::~RawBuffer() {
  if (!p_) return;
  if (K == BufferKind::Device) {
    CUTRAIN_CUDA_LOG(cudaFree(p_));
    note_tensor_free(Device::CUDA, static_cast<int64_t>(bytes_));
  } else {
    CUTRAIN_CUDA_LOG(cudaFreeHost(p_));
  }
}

template <BufferKind K>
RawBuffer<K>::RawBuffer(RawBuffer&& o) noexcept
    : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}

template <BufferKind K>
RawBuffer<K>& RawBuffer<K>::operator=(RawBuffer&& o) noexcept {
  std::swap(p_, o.p_);
  std::swap(bytes_, o.bytes_);
  return *this;
}

template class RawBuffer<BufferKind::Device>;
template class RawBuffer<BufferKind::PinnedHost>;

}  // namespace cutrain::detail
