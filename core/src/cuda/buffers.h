// RAII owners of untyped memory the float Tensor does not cover: device bytes (uint8 datasets,
// int32 orders, sort scratch) and pinned (page-locked) host staging buffers, from which
// cudaMemcpyAsync is truly asynchronous. Device bytes count in memory_stats. Private.
#pragma once

#include <cstddef>

namespace cutrain::detail {

enum class BufferKind { Device, PinnedHost };

/// cudaMalloc'd (Device) or cudaMallocHost'd (PinnedHost) bytes. Move-only.
template <BufferKind K>
class RawBuffer {
 public:
  RawBuffer() = default;
  explicit RawBuffer(size_t bytes);
  ~RawBuffer();
  RawBuffer(RawBuffer&& o) noexcept;
  RawBuffer& operator=(RawBuffer&& o) noexcept;
  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;

  template <typename T>
  T* as() const { return static_cast<T*>(p_); }
  size_t bytes() const { return bytes_; }

 private:
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

using DeviceBuffer = RawBuffer<BufferKind::Device>;
using PinnedBuffer = RawBuffer<BufferKind::PinnedHost>;

extern template class RawBuffer<BufferKind::Device>;
extern template class RawBuffer<BufferKind::PinnedHost>;

}  // namespace cutrain::detail
