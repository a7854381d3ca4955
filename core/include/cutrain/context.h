// Execution context: the device ops run on and, for CUDA, the compute stream with the cuBLAS and
// cuDNN handles bound to it and a shared workspace. One per training run.
#pragma once

#include <cstddef>
#include <memory>

#include "cutrain/device.h"
#include "cutrain/stream.h"

namespace cutrain {

/// How CUDA convolutions (cuDNN) and matrix products (cuBLAS, cuBLASLt) multiply float32
/// operands. Elementwise kernels, reductions and the CPU are float32 either way.
enum class Float32Math {
  /// Float32 products (cuDNN FMA math, CUBLAS_COMPUTE_32F): GPU results match the CPU
  /// reference to rounding, which is what the GPU tests compare.
  Full,
  /// TF32 tensor cores where the GPU has them (Ampere and later): operands rounded to a 10-bit
  /// mantissa, products summed in float32. Convolutions and GEMMs run several times faster;
  /// results differ from Full by about 1e-3 relative. PyTorch's default for cuDNN convolutions.
  TF32,
};

class Context {
 public:
  /// On CUDA: creates the compute stream, cuBLAS and cuDNN handles (throws DeviceError when no
  /// device is usable). On the CPU: pins BLAS to one thread per caller (cutrain parallelises
  /// with OpenMP itself). `math` is fixed for the context's life (layers plan their cuDNN and
  /// cuBLASLt algorithms for it); it has no effect on the CPU.
  explicit Context(Device device, Float32Math math = Float32Math::Full);
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  bool is_cuda() const { return device_ == Device::CUDA; }
  Float32Math float32_math() const { return math_; }
  /// The compute stream (nullptr on the CPU).
  cudaStream_t stream() const;
  /// Waits for all work queued on the compute stream.
  void synchronize() const;
  /// Device bytes of the library scratch this context owns: cuBLAS's fixed workspace and the
  /// cuDNN workspace shared by the layers (grown while they plan). 0 on the CPU.
  size_t workspace_bytes() const;

  struct Impl;  ///< CUDA handles; defined in the library's private headers
  Impl& impl() { return *impl_; }

 private:
  Device device_;
  Float32Math math_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutrain
