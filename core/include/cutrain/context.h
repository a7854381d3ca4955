// Execution context: the device ops run on and, for CUDA, the compute stream with the cuBLAS and
// cuDNN handles bound to it and a shared workspace. One per training run.
#pragma once

#include <cstddef>
#include <memory>

#include "cutrain/device.h"
#include "cutrain/stream.h"

namespace cutrain {

class Context {
 public:
  /// On CUDA: creates the compute stream, cuBLAS and cuDNN handles (throws DeviceError when no
  /// device is usable). On the CPU: pins BLAS to one thread per caller (cutrain parallelises
  /// with OpenMP itself).
  explicit Context(Device device);
  ~Context();
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  Device device() const { return device_; }
  bool is_cuda() const { return device_ == Device::CUDA; }
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
  std::unique_ptr<Impl> impl_;
};

}  // namespace cutrain
