#include "cutrain/batch_view.h"

#include <cstring>

#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include "cuda/check.h"
#endif

namespace cutrain {

BatchView BatchView::of(const Tensor& t) {
  if (t.rank() < 1) throw ConfigError("BatchView::of: a tensor of rank 0");
  BatchView v;
  v.data = const_cast<float*>(t.data());
  v.shape = t.shape();
  v.device = t.device();
  v.batch_stride = v.sample_numel();
  return v;
}

int64_t BatchView::sample_numel() const {
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

BatchView BatchView::channels(int64_t begin, int64_t count) const {
  if (rank() < 2 || begin < 0 || count < 0 || begin + count > shape[1])
    throw ConfigError("BatchView::channels(" + std::to_string(begin) + ", " +
                      std::to_string(count) + ") of " + to_string(shape));
  BatchView v = *this;
  const int64_t plane = shape[1] == 0 ? 0 : sample_numel() / shape[1];
  v.data = data + begin * plane;
  v.shape[1] = count;
  return v;
}

BatchView BatchView::narrow_batch(int64_t n) const {
  if (shape.empty() || n < 0 || n > shape[0])
    throw ConfigError("BatchView::narrow_batch(" + std::to_string(n) + ") of " + to_string(shape));
  BatchView v = *this;
  v.shape[0] = n;
  return v;
}

void copy_batch(const BatchView& src, const BatchView& dst, cudaStream_t stream) {
  if (src.shape != dst.shape || src.device != dst.device)
    throw ConfigError("copy_batch: " + to_string(src.shape) + " on " + device_name(src.device) +
                      " into " + to_string(dst.shape) + " on " + device_name(dst.device));
  const int64_t n = src.batch(), len = src.sample_numel();
  if (n == 0 || len == 0) return;
  if (src.batch_stride < len || dst.batch_stride < len)
    throw ConfigError("copy_batch: a batch stride below the sample size " + std::to_string(len));
  if (src.device == Device::CPU) {
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(dst.sample(i), src.sample(i), static_cast<size_t>(len) * sizeof(float));
    return;
  }
#if CUTRAIN_WITH_CUDA
  // One 2-D copy: n rows of len floats, each row at its view's pitch.
  CUTRAIN_CUDA_CHECK(
      cudaMemcpy2DAsync(dst.data, static_cast<size_t>(dst.batch_stride) * sizeof(float), src.data,
                        static_cast<size_t>(src.batch_stride) * sizeof(float),
                        static_cast<size_t>(len) * sizeof(float), static_cast<size_t>(n),
                        cudaMemcpyDeviceToDevice, stream));
  if (stream == nullptr) CUTRAIN_CUDA_CHECK(cudaStreamSynchronize(nullptr));
#else
  (void)stream;
  throw DeviceError("copy_batch: cutrain was built without CUDA");
#endif
}

}  // namespace cutrain
