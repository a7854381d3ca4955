// Move-only RAII owners of cuDNN descriptors, and helpers to set the common 4-D float ones.
// Private to the library.
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <utility>

#include "cuda/blas_dnn_check.h"

namespace cutrain::detail {

template <typename T, cudnnStatus_t (*Create)(T*), cudnnStatus_t (*Destroy)(T)>
class CudnnDescriptor {
 public:
  CudnnDescriptor() { CUTRAIN_CUDNN_CHECK(Create(&d_)); }
  ~CudnnDescriptor() {
    if (d_) Destroy(d_);  // only fails for a null descriptor
  }
  CudnnDescriptor(CudnnDescriptor&& o) noexcept : d_(std::exchange(o.d_, nullptr)) {}
  CudnnDescriptor& operator=(CudnnDescriptor&& o) noexcept {
    std::swap(d_, o.d_);
    return *this;
  }
  CudnnDescriptor(const CudnnDescriptor&) = delete;
  CudnnDescriptor& operator=(const CudnnDescriptor&) = delete;
  T get() const { return d_; }

 private:
  T d_ = nullptr;
};

using TensorDesc = CudnnDescriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor,
                                   cudnnDestroyTensorDescriptor>;
using FilterDesc = CudnnDescriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor,
                                   cudnnDestroyFilterDescriptor>;
using ConvDesc = CudnnDescriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                 cudnnDestroyConvolutionDescriptor>;
using PoolDesc = CudnnDescriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor,
                                 cudnnDestroyPoolingDescriptor>;
using ActivationDesc = CudnnDescriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor,
                                       cudnnDestroyActivationDescriptor>;

inline TensorDesc make_nchw_desc(int64_t n, int64_t c, int64_t h, int64_t w) {
  TensorDesc d;
  CUTRAIN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d.get(), CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                 static_cast<int>(n), static_cast<int>(c),
                                                 static_cast<int>(h), static_cast<int>(w)));
  return d;
}

/// NCHW with samples `n_stride` floats apart (a channel slice of a larger buffer); each sample
/// is dense: strides (n_stride, h*w, w, 1).
inline TensorDesc make_nchw_desc_strided(int64_t n, int64_t c, int64_t h, int64_t w,
                                         int64_t n_stride) {
  TensorDesc d;
  CUTRAIN_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(
      d.get(), CUDNN_DATA_FLOAT, static_cast<int>(n), static_cast<int>(c), static_cast<int>(h),
      static_cast<int>(w), static_cast<int>(n_stride), static_cast<int>(h * w), static_cast<int>(w),
      1));
  return d;
}

}  // namespace cutrain::detail
