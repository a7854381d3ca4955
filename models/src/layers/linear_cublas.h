// The cuBLAS half of Linear. Row-major tensors are, to column-major cuBLAS, their transposes:
// X [n, in] is X^T [in, n], W [out, in] is W^T [in, out], Y [n, out] is Y^T [out, n]. So
//   forward   Y^T  = W X^T + b 1^T   one cuBLASLt GEMM, BIAS epilogue
//                                   (else: Y^T = b 1^T as a rank-1 GEMM, then Y^T += W X^T)
//   backward  dW^T = X^T dY          one cuBLASLt GEMM whose BGRADB epilogue also reduces
//             db   = dY^T 1          op(B) = dY over k = n  (else: a GEMM and a GEMV)
//             dX^T = W^T dY^T        a GEMM
// so a step launches 3 GEMMs per Linear instead of 5 (LeNet: 6 launches fewer per step). An
// absorbed ReLU rides in the forward epilogue too (RELU_BIAS).
// Each fused GEMM is planned once per (batch size, pointer alignments) with cuBLASLt's
// heuristic, within cuBLAS's workspace, and the algorithm checked; where cuBLASLt offers none,
// that GEMM takes the separate calls. So do GEMMs with a side of 1 (cuBLASLt rejects some, and
// its bias gradient is reported wrong for k = 1) and biases aligned to less than 16 bytes.
// FP32 data; products in FP32 (CUBLAS_COMPUTE_32F), or on TF32 tensor cores when the context's
// Float32Math is TF32 (CUBLAS_COMPUTE_32F_FAST_TF32 here, the handle's math mode for cuBLAS).
// CUTRAIN_CUBLASLT=0 in the environment turns the fused path off (A/B benchmarks, tests).
// Private; compiled only with CUDA.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "activation_math.h"
#include "cutrain/context.h"
#include "cutrain/tensor.h"

namespace cutrain::detail {

class LinearCublas {
 public:
  /// Buffers for batches of up to `max_batch` rows, on the current CUDA device.
  explicit LinearCublas(int64_t max_batch);
  ~LinearCublas();
  LinearCublas(const LinearCublas&) = delete;
  LinearCublas& operator=(const LinearCublas&) = delete;

  /// An activation the layer absorbed: forward applies it to y (ReLU inside the epilogue,
  /// RELU_BIAS, where cuBLASLt has it; else one element-wise launch after the GEMM). Set before
  /// the first forward.
  void set_activation(kernels::Activation a) { act_ = a; }
  void forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y, Context& ctx);
  void backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dw, Tensor& db,
                Tensor* dx, Context& ctx);

  /// Whether the last forward / backward ran its bias work inside a cuBLASLt GEMM.
  bool forward_fused() const { return forward_fused_; }
  bool backward_fused() const { return backward_fused_; }

  struct Gemm;  // a planned cuBLASLt GEMM (defined in the .cpp)
  using Key = std::tuple<int64_t, int, int, bool>;  // batch, alignments, TF32

 private:
  // By (batch size, alignment of the matrices, alignment of the bias, the context's TF32
  // choice): the heuristic assumes the alignments, and the descriptor holds the compute type. Null:
  // cuBLASLt offers no algorithm.
  using Plans = std::map<Key, std::unique_ptr<Gemm>>;

  Plans forward_plans_, backward_plans_;
  Tensor ones_;  // [max_batch] of 1: the unfused bias broadcast and bias reduction
  bool use_cublaslt_;
  std::optional<kernels::Activation> act_;
  bool forward_fused_ = false, backward_fused_ = false;
};

}  // namespace cutrain::detail
