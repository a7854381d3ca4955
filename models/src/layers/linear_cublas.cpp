#include "layers/linear_cublas.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "activation.h"
#include "context_impl.h"
#include "cuda/blas_dnn_check.h"
#include "cuda/cublaslt_desc.h"

namespace cutrain::detail {

struct LinearCublas::Gemm {
  MatmulDesc desc;
  MatrixLayout a, b, d;  // C is D (beta = 0)
  cublasLtMatmulAlgo_t algo{};
};

namespace {

// The largest power of two (at most 256, cuBLASLt's default assumption) dividing every address.
int common_alignment(std::initializer_list<const void*> pointers) {
  int align = 256;
  for (const void* p : pointers) {
    const auto a = reinterpret_cast<uintptr_t>(p);
    while (align > 1 && a % static_cast<uintptr_t>(align) != 0) align /= 2;
  }
  return align;
}

struct GemmShape {
  cublasOperation_t transa, transb;
  int64_t a_rows, a_cols, lda;  // A and B as stored (column-major), before op()
  int64_t b_rows, b_cols, ldb;
  int64_t d_rows, d_cols, ldd;
  cublasLtEpilogue_t epilogue;
};

void set_bias_pointer(const MatmulDesc& desc, const void* bias) {
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(
      desc.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
}

// cuBLASLt's best algorithm for `s` with pointers of `align` bytes and the bias pointer `bias`
// (its alignment counts too), or null when it offers none within the workspace.
std::unique_ptr<LinearCublas::Gemm> plan(const GemmShape& s, const void* bias, int align,
                                         Context& ctx) {
  size_t ws_bytes = 0;
  cublas_workspace(ctx, &ws_bytes);
  auto g = std::make_unique<LinearCublas::Gemm>();
  g->desc = make_float_matmul(s.transa, s.transb, ctx.float32_math() == Float32Math::TF32);
  const auto epilogue = static_cast<uint32_t>(s.epilogue);
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(g->desc.get(), CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                      &epilogue, sizeof epilogue));
  set_bias_pointer(g->desc, bias);
  g->a = make_float_layout(s.a_rows, s.a_cols, s.lda);
  g->b = make_float_layout(s.b_rows, s.b_cols, s.ldb);
  g->d = make_float_layout(s.d_rows, s.d_cols, s.ldd);
  cublasLtMatmulPreference_t p = nullptr;
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&p));
  const MatmulPreference pref(p);
  const uint64_t max_ws = ws_bytes;
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      p, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &max_ws, sizeof max_ws));
  const auto a32 = static_cast<uint32_t>(align);
  for (const auto attr :
       {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES})
    CUTRAIN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(p, attr, &a32, sizeof a32));
  cublasLtMatmulHeuristicResult_t result;
  std::memset(&result, 0, sizeof result);
  int found = 0;
  // NOT_SUPPORTED (or nothing found) is an answer here, not an error: the caller falls back.
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(cublaslt_handle(ctx), g->desc.get(), g->a.get(), g->b.get(),
                                     g->d.get(), g->d.get(), pref.get(), 1, &result, &found);
  if (st != CUBLAS_STATUS_SUCCESS || found < 1 || result.state != CUBLAS_STATUS_SUCCESS ||
      result.workspaceSize > ws_bytes)
    return nullptr;
  // A run-time NOT_SUPPORTED would be an exception inside the step: ask now instead.
  cublasLtMatmulHeuristicResult_t check;
  std::memset(&check, 0, sizeof check);
  if (cublasLtMatmulAlgoCheck(cublaslt_handle(ctx), g->desc.get(), g->a.get(), g->b.get(),
                              g->d.get(), g->d.get(), &result.algo,
                              &check) != CUBLAS_STATUS_SUCCESS ||
      check.workspaceSize > ws_bytes)
    return nullptr;
  g->algo = result.algo;
  return g;
}

// The smallest bias alignment the fused path takes (cuBLASLt kernels may assume 16 bytes).
constexpr int kMinBiasAlignment = 16;

// Whether a GEMM of these sides may take cuBLASLt at all.
bool fusable(int64_t m, int64_t n, int64_t k, int bias_alignment) {
  return m > 1 && n > 1 && k > 1 && bias_alignment >= kMinBiasAlignment;
}

void run(const LinearCublas::Gemm& g, const void* bias, const float* a, const float* b, float* d,
         Context& ctx) {
  size_t ws_bytes = 0;
  void* ws = cublas_workspace(ctx, &ws_bytes);
  set_bias_pointer(g.desc, bias);  // aligned as planned (part of the key)
  const float one = 1.0f, zero = 0.0f;
  CUTRAIN_CUBLAS_CHECK(cublasLtMatmul(cublaslt_handle(ctx), g.desc.get(), &one, a, g.a.get(), b,
                                      g.b.get(), &zero, d, g.d.get(), d, g.d.get(), &g.algo, ws,
                                      ws_bytes, ctx.stream()));
}

// D = op(A) op(B) with the epilogue of `s`, through the plan of (batch, matrix alignment, bias
// alignment), made on first use. False (nothing run) where the fused path is not taken: a side
// of 1, a bias aligned below 16 bytes, or no cuBLASLt algorithm.
bool run_fused(std::map<LinearCublas::Key, std::unique_ptr<LinearCublas::Gemm>>& plans,
               int64_t batch, const GemmShape& s, const float* a, const float* b, float* d,
               const void* bias, Context& ctx) {
  const int64_t k = s.transa == CUBLAS_OP_N ? s.a_cols : s.a_rows;
  const int bias_align = common_alignment({bias});
  if (!fusable(s.d_rows, s.d_cols, k, bias_align)) return false;
  const LinearCublas::Key key{batch, common_alignment({a, b, d}), bias_align,
                              ctx.float32_math() == Float32Math::TF32};
  auto it = plans.find(key);
  if (it == plans.end()) it = plans.emplace(key, plan(s, bias, std::get<1>(key), ctx)).first;
  if (!it->second) return false;
  run(*it->second, bias, a, b, d, ctx);
  return true;
}

}  // namespace

LinearCublas::LinearCublas(int64_t max_batch) : ones_(Shape{max_batch}, Device::CUDA) {
  ones_.fill(1.0f);
  const char* env = std::getenv("CUTRAIN_CUBLASLT");
  use_cublaslt_ = env == nullptr || std::strcmp(env, "0") != 0;
}

LinearCublas::~LinearCublas() = default;

void LinearCublas::forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& y,
                           Context& ctx) {
  const int64_t n = x.dim(0), in = x.dim(1), out = y.dim(1);
  const bool relu = act_ == kernels::Activation::ReLU;
  const GemmShape s{CUBLAS_OP_T, CUBLAS_OP_N, in, out, in, in, n, in, out, n, out,
                    relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS};
  forward_fused_ = use_cublaslt_ &&
                   run_fused(forward_plans_, n, s, w.data(), x.data(), y.data(), b.data(), ctx);
  if (!forward_fused_) {
    cublasHandle_t h = cublas_handle(ctx);
    const int ni = static_cast<int>(n), ii = static_cast<int>(in), oi = static_cast<int>(out);
    const float one = 1.0f, zero = 0.0f;
    CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, oi, ni, 1, &one, b.data(), oi,
                                     ones_.data(), 1, &zero, y.data(), oi));
    CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, oi, ni, ii, &one, w.data(), ii,
                                     x.data(), ii, &one, y.data(), oi));
  }
  if (act_ && !(forward_fused_ && relu))  // not applied by the epilogue: in place after
    kernels::launch_activation_forward(*act_, y.data(), y.data(), n * out, ctx.stream());
}

void LinearCublas::backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dw,
                            Tensor& db, Tensor* dx, Context& ctx) {
  const int64_t n = x.dim(0), in = x.dim(1), out = dy.dim(1);
  cublasHandle_t h = cublas_handle(ctx);
  const int ni = static_cast<int>(n), ii = static_cast<int>(in), oi = static_cast<int>(out);
  const float one = 1.0f, zero = 0.0f;
  const GemmShape s{CUBLAS_OP_N, CUBLAS_OP_T, in, n, in, out, n, out, in, out, in,
                    CUBLASLT_EPILOGUE_BGRADB};
  backward_fused_ = use_cublaslt_ && run_fused(backward_plans_, n, s, x.data(), dy.data(),
                                               dw.data(), db.data(), ctx);
  if (!backward_fused_) {
    CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, ii, oi, ni, &one, x.data(), ii,
                                     dy.data(), oi, &zero, dw.data(), ii));
    CUTRAIN_CUBLAS_CHECK(cublasSgemv(h, CUBLAS_OP_N, oi, ni, &one, dy.data(), oi, ones_.data(), 1,
                                     &zero, db.data(), 1));
  }
  if (dx != nullptr)
    CUTRAIN_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, ii, ni, oi, &one, w.data(), ii,
                                     dy.data(), oi, &zero, dx->data(), ii));
}

}  // namespace cutrain::detail
