// Tensor: float32, row-major, with storage on the host or on a CUDA device.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cutrain/device.h"
#include "cutrain/stream.h"

namespace cutrain {

using Shape = std::vector<int64_t>;

std::string to_string(const Shape& shape);
int64_t numel_of(const Shape& shape);

/// @brief A float32 tensor. Owning tensors free their storage on destruction; views (see
/// `view`, `borrow`) point into storage owned elsewhere and must not outlive it. Move-only:
/// copies are explicit (`copy_from`, `to`).
///
/// Stream contract for device tensors: an operation given a stream is asynchronous on it; an
/// operation given no stream (nullptr, the default) is synchronous: it has finished when it
/// returns, so set-up code needs no ordering with the (non-blocking) compute stream. Copies to
/// the host always wait for their data.
class Tensor {
 public:
  Tensor() = default;
  /// Uninitialised storage for `shape` on `device`.
  Tensor(Shape shape, Device device);
  static Tensor zeros(Shape shape, Device device, cudaStream_t stream = nullptr);
  static Tensor from_vector(const std::vector<float>& values, Shape shape, Device device);
  /// Non-owning tensor over memory owned by the caller.
  static Tensor borrow(float* data, Shape shape, Device device);

  /// A moved-from tensor is empty: undefined, shape [], numel 0.
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  /// Non-owning view of the first numel(shape) elements with a new shape.
  Tensor view(Shape shape) const;
  /// View of the first `n` entries along dimension 0 (a smaller batch in static storage).
  Tensor narrow_batch(int64_t n) const;

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(static_cast<size_t>(i)); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return numel_; }
  size_t bytes() const { return static_cast<size_t>(numel_) * sizeof(float); }
  Device device() const { return device_; }
  bool is_cuda() const { return device_ == Device::CUDA; }
  bool defined() const { return data_ != nullptr; }
  bool owns_storage() const { return owning_; }

  void zero(cudaStream_t stream = nullptr);
  void fill(float value, cudaStream_t stream = nullptr);
  /// Copies `src` (same numel, any device) into this tensor.
  void copy_from(const Tensor& src, cudaStream_t stream = nullptr);
  void copy_from_host(const float* src, int64_t count, cudaStream_t stream = nullptr);
  /// A new owning tensor with the same contents on `device`.
  Tensor to(Device device, cudaStream_t stream = nullptr) const;
  /// The contents on the host (synchronises `stream` for device tensors).
  std::vector<float> to_vector(cudaStream_t stream = nullptr) const;

 private:
  using Storage = std::unique_ptr<float, std::function<void(float*)>>;
  Storage data_;
  Shape shape_;
  int64_t numel_ = 0;
  Device device_ = Device::CPU;
  bool owning_ = false;
};

}  // namespace cutrain
