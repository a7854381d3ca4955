#include "cutrain/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cutrain/error.h"
#include "cutrain/memory_stats.h"

#if CUTRAIN_WITH_CUDA
#include "cuda/check.h"
#endif

namespace cutrain {

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t numel_of(const Shape& shape) {
  for (int64_t d : shape)
    if (d < 0) throw ConfigError("negative dimension in shape " + to_string(shape));
  // A zero anywhere makes the product 0, even where the dimensions before it would overflow.
  for (int64_t d : shape)
    if (d == 0) return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n))
      throw ConfigError("shape " + to_string(shape) + " has more elements than int64 counts");
  // Tensors hold floats: bytes() must not wrap either (2^62 elements would be 0 bytes).
  if (n > INT64_MAX / static_cast<int64_t>(sizeof(float)))
    throw ConfigError("shape " + to_string(shape) + " needs more bytes than int64 counts");
  return n;
}

namespace {
// 64-byte alignment: whole cache lines, and aligned for vector loads in CPU loops.
// Counted (and checked against host_memory_limit) before allocating.
float* host_alloc(size_t bytes) {
  detail::reserve_host_tensor_memory(static_cast<int64_t>(bytes));
  const size_t rounded = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) {
    detail::note_tensor_free(Device::CPU, static_cast<int64_t>(bytes));
    throw Error("out of host memory allocating " + std::to_string(bytes) + " bytes");
  }
  return static_cast<float*>(p);
}

#if CUTRAIN_WITH_CUDA
float* device_alloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, std::max<size_t>(bytes, 4));
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw DeviceError("cudaMalloc of " + std::to_string(bytes) + " bytes failed: " +
                      cudaGetErrorString(err) +
                      (err == cudaErrorMemoryAllocation ? "; try a smaller --batch-size" : ""));
  }
  return static_cast<float*>(p);
}

// No stream means synchronous (see tensor.h): the compute stream is non-blocking, so work left
// on the legacy default stream would not be ordered before it.
void finish_if_unstreamed(cudaStream_t stream) {
  if (stream == nullptr) CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(nullptr));
}

cudaMemcpyKind copy_kind(Device dst, Device src) {
  if (dst == Device::CUDA) return src == Device::CUDA ? cudaMemcpyDeviceToDevice
                                                      : cudaMemcpyHostToDevice;
  return src == Device::CUDA ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost;
}
#endif
}  // namespace

Tensor::Tensor(Shape shape, Device device)
    : shape_(std::move(shape)), numel_(numel_of(shape_)), device_(device), owning_(true) {
  const int64_t n = static_cast<int64_t>(bytes());
  if (device == Device::CPU) {
    data_ = Storage(host_alloc(bytes()), [n](float* p) {
      std::free(p);
      detail::note_tensor_free(Device::CPU, n);
    });
  } else {
#if CUTRAIN_WITH_CUDA
    data_ = Storage(device_alloc(bytes()), [n](float* p) {
      CUTRAIN_CUDA_LOG(cudaFree(p));
      detail::note_tensor_free(Device::CUDA, n);
    });
    detail::note_tensor_alloc(Device::CUDA, n);
#else
    throw DeviceError("cannot allocate a CUDA tensor: cutrain was built without CUDA");
#endif
  }
}

Tensor::Tensor(Tensor&& other) noexcept
    : data_(std::move(other.data_)),
      shape_(std::move(other.shape_)),
      numel_(std::exchange(other.numel_, 0)),
      device_(other.device_),
      owning_(std::exchange(other.owning_, false)) {
  other.shape_.clear();
}

Tensor& Tensor::operator=(Tensor&& other) noexcept {
  if (this != &other) {
    data_ = std::move(other.data_);
    shape_ = std::move(other.shape_);
    numel_ = std::exchange(other.numel_, 0);
    device_ = other.device_;
    owning_ = std::exchange(other.owning_, false);
    other.shape_.clear();
  }
  return *this;
}

Tensor Tensor::zeros(Shape shape, Device device, cudaStream_t stream) {
  Tensor t(std::move(shape), device);
  t.zero(stream);
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, Shape shape, Device device) {
  Tensor t(std::move(shape), device);
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw ConfigError("from_vector: " + std::to_string(values.size()) +
                      " values for shape " + to_string(t.shape()));
  t.copy_from_host(values.data(), t.numel());
  return t;
}

Tensor Tensor::borrow(float* data, Shape shape, Device device) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.numel_ = numel_of(t.shape_);
  t.device_ = device;
  t.data_ = Storage(data, [](float*) {});
  return t;
}

Tensor Tensor::view(Shape shape) const {
  if (numel_of(shape) > numel_)
    throw ConfigError("view " + to_string(shape) + " is larger than tensor " + to_string(shape_));
  return borrow(const_cast<float*>(data()), std::move(shape), device_);
}

Tensor Tensor::narrow_batch(int64_t n) const {
  if (shape_.empty() || n < 0 || n > shape_[0])
    throw ConfigError("narrow_batch(" + std::to_string(n) + ") of tensor " + to_string(shape_));
  Shape s = shape_;
  s[0] = n;
  return view(std::move(s));
}

void Tensor::zero(cudaStream_t stream) {
  if (numel_ == 0) return;
  if (device_ == Device::CPU) {
    std::memset(data(), 0, bytes());
    return;
  }
#if CUTRAIN_WITH_CUDA
  CUTRAIN_CUDA_CHECK(cudaMemsetAsync(data(), 0, bytes(), stream));
  finish_if_unstreamed(stream);
#else
  (void)stream;
#endif
}

void Tensor::fill(float value, cudaStream_t stream) {
  if (device_ == Device::CPU) {
    std::fill(data(), data() + numel_, value);
    return;
  }
  // Rare (initialisation only): stage on the host rather than keep a kernel for it.
  std::vector<float> host(static_cast<size_t>(numel_), value);
  copy_from_host(host.data(), numel_, stream);
  if (stream == nullptr) return;
#if CUTRAIN_WITH_CUDA
  CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(stream));  // `host` dies here
#endif
}

void Tensor::copy_from(const Tensor& src, cudaStream_t stream) {
  if (src.numel() != numel_)
    throw ConfigError("copy_from: source " + to_string(src.shape()) + " into " +
                      to_string(shape_));
  if (numel_ == 0) return;
  if (device_ == Device::CPU && src.device() == Device::CPU) {
    std::memcpy(data(), src.data(), bytes());
    return;
  }
#if CUTRAIN_WITH_CUDA
  CUTRAIN_CUDA_CHECK(
      cudaMemcpyAsync(data(), src.data(), bytes(), copy_kind(device_, src.device()), stream));
  if (device_ == Device::CPU)
    CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(stream));
  else
    finish_if_unstreamed(stream);
#else
  (void)stream;
#endif
}

void Tensor::copy_from_host(const float* src, int64_t count, cudaStream_t stream) {
  if (count > numel_)
    throw ConfigError("copy_from_host: " + std::to_string(count) + " values into tensor " +
                      to_string(shape_));
  const size_t n = static_cast<size_t>(count) * sizeof(float);
  if (n == 0) return;
  if (device_ == Device::CPU) {
    std::memcpy(data(), src, n);
    return;
  }
#if CUTRAIN_WITH_CUDA
  // From pageable memory the runtime stages the source before returning, so the caller may
  // reuse it at once.
  CUTRAIN_CUDA_CHECK(cudaMemcpyAsync(data(), src, n, cudaMemcpyHostToDevice, stream));
  finish_if_unstreamed(stream);
#else
  (void)stream;
#endif
}

Tensor Tensor::to(Device device, cudaStream_t stream) const {
  Tensor t(shape_, device);
  t.copy_from(*this, stream);
  return t;
}

std::vector<float> Tensor::to_vector(cudaStream_t stream) const {
  std::vector<float> out(static_cast<size_t>(numel_));
  if (numel_ == 0) return out;  // empty or moved-from: no storage to read (memcpy needs one)
  if (device_ == Device::CPU) {
    std::memcpy(out.data(), data(), bytes());
    return out;
  }
#if CUTRAIN_WITH_CUDA
  CUTRAIN_CUDA_CHECK(
      cudaMemcpyAsync(out.data(), data(), bytes(), cudaMemcpyDeviceToHost, stream));
  CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(stream));
#else
  (void)stream;
#endif
  return out;
}

}  // namespace cutrain
