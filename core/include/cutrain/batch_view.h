// BatchView: a batch whose samples sit at a fixed stride that may exceed the sample's size.
//
// Layout: sample i of [N, d1, d2, ...] starts at data + i * batch_stride and is dense
// (row-major d1 x d2 x ...). A packed tensor has batch_stride == d1*d2*...; a channel slice
// [begin, begin + count) of a packed [N, C, H, W] buffer is
//   data + begin*H*W, shape [N, count, H, W], batch_stride C*H*W,
// i.e. strided per sample but dense inside it. DenseBlock uses such slices so that each conv
// block reads the concatenation of all earlier outputs and writes its own output in place
// (cuDNN: cudnnSetTensor4dDescriptorEx with nStride = batch_stride; CPU: per-sample pointers).
#pragma once

#include <cstdint>

#include "cutrain/device.h"
#include "cutrain/stream.h"
#include "cutrain/tensor.h"

namespace cutrain {

/// @brief Non-owning view of a batch with a per-sample stride. Must not outlive the storage.
struct BatchView {
  float* data = nullptr;
  Shape shape;               ///< [N, ...]; each sample is dense
  int64_t batch_stride = 0;  ///< floats from sample i to sample i + 1, >= sample_numel()
  Device device = Device::CPU;

  /// The whole of a tensor (rank >= 1), packed.
  static BatchView of(const Tensor& t);

  int64_t batch() const { return shape.empty() ? 0 : shape[0]; }
  int64_t dim(int i) const { return shape.at(static_cast<size_t>(i)); }
  int rank() const { return static_cast<int>(shape.size()); }
  /// Floats in one sample (product of the dimensions after the first).
  int64_t sample_numel() const;
  bool packed() const { return batch_stride == sample_numel() || batch() <= 1; }
  float* sample(int64_t i) const { return data + i * batch_stride; }

  /// Channels [begin, begin + count) of dimension 1 (rank >= 2); same batch stride.
  BatchView channels(int64_t begin, int64_t count) const;
  /// The first n samples.
  BatchView narrow_batch(int64_t n) const;
};

/// @brief Copies src into dst (same shape and device; strides may differ). On CUDA one
/// cudaMemcpy2DAsync on `stream` (asynchronous; nullptr: synchronous, like Tensor's copies).
void copy_batch(const BatchView& src, const BatchView& dst, cudaStream_t stream = nullptr);

}  // namespace cutrain
