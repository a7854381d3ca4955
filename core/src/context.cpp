#include "context_impl.h"

#include "cutrain/error.h"

#if CUTRAIN_WITH_CUDA
#include "cuda/blas_dnn_check.h"
#include "cuda/check.h"
#endif

extern "C" void openblas_set_num_threads(int num_threads);

namespace cutrain {

Context::Context(Device device, Float32Math math)
    : device_(device), math_(math), impl_(std::make_unique<Impl>()) {
  if (device == Device::CPU) {
    // cutrain parallelises CPU work over the batch with OpenMP; a multi-threaded BLAS inside
    // those threads would oversubscribe the cores.
    openblas_set_num_threads(1);
    return;
  }
#if CUTRAIN_WITH_CUDA
  const std::string why = cuda_unusable_reason();
  if (!why.empty()) throw DeviceError("no usable CUDA device: " + why);
  impl_->stream.emplace();
  impl_->cublas.emplace(impl_->stream->get());
  // 32 MiB: what cuBLAS asks for on Hopper; a user workspace keeps its calls capturable.
  constexpr int64_t kCublasWorkspaceBytes = int64_t{32} << 20;
  impl_->cublas_workspace = Tensor(Shape{kCublasWorkspaceBytes / 4}, Device::CUDA);
  CUTRAIN_CUBLAS_CHECK(cublasSetWorkspace(impl_->cublas->get(), impl_->cublas_workspace.data(),
                                          kCublasWorkspaceBytes));
  // CUBLAS_DEFAULT_MATH keeps float32 GEMMs off TF32 (NVIDIA_TF32_OVERRIDE=0 can only turn TF32
  // off, never on); cuBLASLt and cuDNN take the choice per descriptor (cublaslt_desc.h, Conv2d).
  CUTRAIN_CUBLAS_CHECK(cublasSetMathMode(impl_->cublas->get(), math == Float32Math::TF32
                                                                   ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                   : CUBLAS_DEFAULT_MATH));
  impl_->cublaslt.emplace(detail::make_cublaslt_handle());
  impl_->cudnn.emplace(impl_->stream->get());
#else
  throw DeviceError("cutrain was built without CUDA (CUTRAIN_CUDA=OFF)");
#endif
}

Context::~Context() = default;
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;

cudaStream_t Context::stream() const {
#if CUTRAIN_WITH_CUDA
  if (impl_ && impl_->stream) return impl_->stream->get();
#endif
  return nullptr;
}

void Context::synchronize() const {
#if CUTRAIN_WITH_CUDA
  if (impl_ && impl_->stream) impl_->stream->synchronize();
#endif
}

size_t Context::workspace_bytes() const {
#if CUTRAIN_WITH_CUDA
  if (impl_) return impl_->workspace.bytes() + impl_->cublas_workspace.bytes();
#endif
  return 0;
}

#if CUTRAIN_WITH_CUDA
namespace detail {
cublasHandle_t cublas_handle(Context& ctx) { return ctx.impl().cublas->get(); }
cudnnHandle_t cudnn_handle(Context& ctx) { return ctx.impl().cudnn->get(); }
cublasLtHandle_t cublaslt_handle(Context& ctx) { return ctx.impl().cublaslt->get(); }

void* cublas_workspace(Context& ctx, size_t* bytes) {
  Tensor& ws = ctx.impl().cublas_workspace;
  *bytes = ws.bytes();
  return ws.data();
}

void reserve_workspace(Context& ctx, size_t bytes) {
  Tensor& ws = ctx.impl().workspace;
  if (ws.defined() && ws.bytes() >= bytes) return;
  ctx.synchronize();  // work in flight may still use the old buffer
  ws = Tensor(Shape{static_cast<int64_t>((bytes + sizeof(float) - 1) / sizeof(float))},
              Device::CUDA);
  ++ctx.impl().workspace_generation;
}

int64_t workspace_generation(Context& ctx) { return ctx.impl().workspace_generation; }

void* workspace(Context& ctx, size_t* bytes) {
  Tensor& ws = ctx.impl().workspace;
  *bytes = ws.defined() ? ws.bytes() : 0;
  return ws.defined() ? ws.data() : nullptr;
}
}  // namespace detail
#endif

}  // namespace cutrain
