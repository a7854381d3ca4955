// The private half of cutrain::Context: what ops need from it on each device.
#pragma once

#include <cstddef>
#include <optional>

#include "cutrain/context.h"
#include "cutrain/tensor.h"

#if CUTRAIN_WITH_CUDA
#include <cublas_v2.h>
#include <cudnn.h>

#include "cuda/cublaslt_desc.h"
#include "cuda/handles.h"
#endif

namespace cutrain {

struct Context::Impl {
#if CUTRAIN_WITH_CUDA
  std::optional<Stream> stream;
  // cuBLAS's own workspace, owned here so that cuBLAS never allocates inside a graph capture
  // (declared before the handle: destroyed after it).
  Tensor cublas_workspace;
  std::optional<detail::CublasHandle> cublas;
  // cuBLASLt (GEMMs with fused epilogues) shares that workspace: its calls are on the same
  // stream, so they never overlap cuBLAS's.
  std::optional<detail::CublasLtHandle> cublaslt;
  std::optional<detail::CudnnHandle> cudnn;
  Tensor workspace;  // shared scratch for cuDNN; grows only while layers are being prepared
  int64_t workspace_generation = 0;  // bumped when `workspace` moves (captured graphs go stale)
#endif
};

namespace detail {
#if CUTRAIN_WITH_CUDA
cublasHandle_t cublas_handle(Context& ctx);
cudnnHandle_t cudnn_handle(Context& ctx);
cublasLtHandle_t cublaslt_handle(Context& ctx);
/// The workspace cuBLAS uses, for cuBLASLt calls on ctx's stream.
void* cublas_workspace(Context& ctx, size_t* bytes);
/// Ensures the shared workspace holds at least `bytes` (allocates only when it must grow; call
/// from layer preparation, not from the step).
void reserve_workspace(Context& ctx, size_t bytes);
void* workspace(Context& ctx, size_t* bytes);
/// Changes whenever the shared workspace is reallocated: a CUDA graph captured before holds
/// the old pointer and must be captured again.
int64_t workspace_generation(Context& ctx);
#endif
}  // namespace detail

}  // namespace cutrain
