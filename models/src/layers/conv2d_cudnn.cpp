// Conv2d on cuDNN. Descriptors and algorithms are chosen once per batch size (the built batch
// and, for the last partial batch of an epoch, the remainder) and per batch strides of x and y
// (DenseBlock passes channel slices of its buffer: strided descriptors, see batch_view.h) and
// cached; the shared workspace grows only then (and when a first call moves on to an algorithm
// that needs more, or a context with the other math re-plans), never inside a steady-state step.
//
// Math follows the context's Float32Math: Full takes only CUDNN_FMA_MATH algorithms (no TF32,
// so results stay comparable with the CPU reference); TF32 lets cuDNN pick tensor-op ones too
// (CUDNN_DEFAULT_MATH), and each call runs with the math type cuDNN listed for its algorithm.
// Backward algorithms are restricted to deterministic ones so runs repeat exactly.
// Every usable offer is kept in order: until an algorithm has run once, a call that cuDNN
// refuses (a NOT_SUPPORTED status, or a misaligned pointer) moves on to the next
// (layers/algorithm_choices.h). First
// calls happen eagerly (a graph captures a step's second use); inside a capture a refusal is
// thrown instead, and the capture's eager fallback retries.
#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <vector>

#include "channel_bias_activation.h"
#include "context_impl.h"
#include "cuda/blas_dnn_check.h"
#include "cuda/cudnn_desc.h"
#include "cutrain/error.h"
#include "cutrain/models/conv2d.h"
#include "layers/activation_kind.h"
#include "layers/algorithm_choices.h"

namespace cutrain {

namespace {
// An algorithm cuDNN's heuristic offered, the math type it runs with (set on the convolution
// descriptor before the call) and its workspace.
template <typename Algo>
struct Choice {
  Algo algo;
  cudnnMathType_t math;
  size_t bytes;
};
// One direction's usable offers in order of preference.
template <typename Algo>
using Choices = detail::AlgorithmChoices<Choice<Algo>>;
}  // namespace

struct Conv2d::CudnnState {
  struct Plan {
    detail::TensorDesc x, y;
    Choices<cudnnConvolutionFwdAlgo_t> fwd;
    Choices<cudnnConvolutionBwdDataAlgo_t> bwd_data;
    Choices<cudnnConvolutionBwdFilterAlgo_t> bwd_filter;
  };
  bool tf32 = false;
  detail::FilterDesc w;
  detail::ConvDesc conv;
  detail::TensorDesc bias;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Plan> plans;  // (batch, x stride, y stride)
};

namespace {

// Workspaces above this are a memory cost out of proportion to the speed they buy (FFT
// algorithms can ask for gigabytes at d2l's batch of 256 at 96x96); taken only when nothing
// else is usable.
constexpr size_t kWorkspaceCap = size_t{256} << 20;

void set_math(const Conv2d::CudnnState& s, cudnnMathType_t math) {
  CUTRAIN_CUDNN_CHECK(cudnnSetConvolutionMathType(s.conv.get(), math));
}

// What the heuristics may offer: with TF32 anything (CUDNN_DEFAULT_MATH), else FMA only.
cudnnMathType_t offered_math(const Conv2d::CudnnState& s) {
  return s.tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
}

// The math type an algorithm listed with `listed` runs with: its own with TF32; FMA otherwise,
// and never a tensor-op listing then (cuDNN lists FMA for an FMA descriptor; PyTorch asserts
// as much, this skips instead).
bool math_allowed(const Conv2d::CudnnState& s, cudnnMathType_t listed) {
  if (listed == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) return false;  // may go down to FP16
  return s.tf32 || listed != CUDNN_TENSOR_OP_MATH;
}
cudnnMathType_t run_math(const Conv2d::CudnnState& s, cudnnMathType_t listed) {
  return s.tf32 ? listed : CUDNN_FMA_MATH;
}

// The algorithms (in cuDNN's order of preference) that support the descriptors, are
// deterministic when asked, have an allowed math type and a workspace query (under the math
// type they run with) that succeeds: those within kWorkspaceCap bytes first, then the others.
// Leaves the descriptor at offered_math for the next heuristic.
template <typename Algo, typename Perf, typename WorkspaceQuery>
Choices<Algo> usable(const Conv2d::CudnnState& s, const Perf* perf, int count,
                     bool need_deterministic, const char* what, WorkspaceQuery&& workspace) {
  std::vector<Choice<Algo>> within, beyond;
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS ||
        (need_deterministic && perf[i].determinism != CUDNN_DETERMINISTIC) ||
        !math_allowed(s, perf[i].mathType))
      continue;
    const cudnnMathType_t math = run_math(s, perf[i].mathType);
    set_math(s, math);
    size_t bytes = 0;
    const bool ok = workspace(perf[i].algo, &bytes) == CUDNN_STATUS_SUCCESS;
    set_math(s, offered_math(s));
    if (ok) (bytes <= kWorkspaceCap ? within : beyond).push_back({perf[i].algo, math, bytes});
  }
  within.insert(within.end(), beyond.begin(), beyond.end());
  if (within.empty())
    throw DeviceError(std::string("cuDNN offers no usable ") + what + " algorithm");
  return {std::move(within)};
}

// Runs call(algo, workspace, bytes) -> cudnnStatus_t with the choice in use of `c`; before it
// has run once, a refusal (any NOT_SUPPORTED status, or a misaligned pointer) moves on to the
// next choice, said on stderr, after growing the workspace if it needs more. Not inside a
// capture: the capture's eager fallback does it. Any other failure, or a refusal with nothing
// left, throws naming `what`.
template <typename Algo, typename Call>
void run_choice(const Conv2d::CudnnState& s, Choices<Algo>& c, Context& ctx, const char* what,
                Call&& call) {
  cudnnStatus_t last = CUDNN_STATUS_SUCCESS;
  const detail::Attempt r = detail::run_first_accepted(
      c,
      [&](const Choice<Algo>& ch) {
        set_math(s, ch.math);
        size_t ws_bytes = 0;
        void* ws = detail::workspace(ctx, &ws_bytes);
        last = call(ch.algo, ws, ws_bytes);
        if (last == CUDNN_STATUS_SUCCESS) return detail::Attempt::Ok;
        // A misaligned pointer is a refusal too: an algorithm with wider loads than a channel
        // slice's alignment allows (DenseBlock's views) may be followed by one without them.
        const bool refused = CUDNN_STATUS_CATEGORY(last) == CUDNN_STATUS_NOT_SUPPORTED ||
                             last == CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER;
        return refused ? detail::Attempt::Refused : detail::Attempt::Failed;
      },
      [&](const Choice<Algo>& next) {
        std::fprintf(stderr, "cutrain: %s refused algorithm %d (%s); trying %d\n", what,
                     static_cast<int>(c.now().algo), cudnnGetErrorString(last),
                     static_cast<int>(next.algo));
        detail::reserve_workspace(ctx, next.bytes);
      },
      [&] {
        cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
        return cudaStreamIsCapturing(ctx.stream(), &capture) == cudaSuccess &&
               capture == cudaStreamCaptureStatusNone;
      });
  if (r != detail::Attempt::Ok) detail::throw_cudnn_error(what, last, __FILE__, __LINE__);
}

void init_plan(Conv2d::CudnnState& s, Conv2d::CudnnState::Plan& p, Context& ctx) {
  cudnnHandle_t h = detail::cudnn_handle(ctx);
  set_math(s, offered_math(s));  // the last call left its algorithm's math type
  constexpr int kMax = 16;
  int count = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
  CUTRAIN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x.get(), s.w.get(),
                                                              s.conv.get(), p.y.get(), kMax,
                                                              &count, fwd));
  p.fwd = usable<cudnnConvolutionFwdAlgo_t>(
      s, fwd, count, false, "forward convolution", [&](cudnnConvolutionFwdAlgo_t a, size_t* b) {
        return cudnnGetConvolutionForwardWorkspaceSize(h, p.x.get(), s.w.get(), s.conv.get(),
                                                       p.y.get(), a, b);
      });
  cudnnConvolutionBwdDataAlgoPerf_t bd[kMax];
  CUTRAIN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
      h, s.w.get(), p.y.get(), s.conv.get(), p.x.get(), kMax, &count, bd));
  p.bwd_data = usable<cudnnConvolutionBwdDataAlgo_t>(
      s, bd, count, true, "backward-data convolution",
      [&](cudnnConvolutionBwdDataAlgo_t a, size_t* b) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(h, s.w.get(), p.y.get(), s.conv.get(),
                                                            p.x.get(), a, b);
      });
  cudnnConvolutionBwdFilterAlgoPerf_t bf[kMax];
  CUTRAIN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
      h, p.x.get(), p.y.get(), s.conv.get(), s.w.get(), kMax, &count, bf));
  p.bwd_filter = usable<cudnnConvolutionBwdFilterAlgo_t>(
      s, bf, count, true, "backward-filter convolution",
      [&](cudnnConvolutionBwdFilterAlgo_t a, size_t* b) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.x.get(), p.y.get(), s.conv.get(),
                                                              s.w.get(), a, b);
      });
  detail::reserve_workspace(
      ctx, std::max({p.fwd.now().bytes, p.bwd_data.now().bytes, p.bwd_filter.now().bytes}));
}

Conv2d::CudnnState::Plan& plan_for(Conv2d::CudnnState& s, const BatchView& x, const BatchView& y,
                                   Context& ctx) {
  const auto key = std::make_tuple(x.batch(), x.batch_stride, y.batch_stride);
  auto it = s.plans.find(key);
  if (it != s.plans.end()) return it->second;
  const Shape& in = x.shape;
  const Shape& out = y.shape;
  Conv2d::CudnnState::Plan p{
      detail::make_nchw_desc_strided(in[0], in[1], in[2], in[3], x.batch_stride),
      detail::make_nchw_desc_strided(out[0], out[1], out[2], out[3], y.batch_stride),
      {},
      {},
      {}};
  init_plan(s, p, ctx);
  return s.plans.emplace(key, std::move(p)).first->second;
}

std::shared_ptr<Conv2d::CudnnState> make_state(const Conv2dOptions& o, const Context& ctx) {
  auto s = std::make_shared<Conv2d::CudnnState>();
  s->tf32 = ctx.float32_math() == Float32Math::TF32;
  CUTRAIN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(
      s->w.get(), CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, static_cast<int>(o.out_channels),
      static_cast<int>(o.in_channels), static_cast<int>(o.kernel), static_cast<int>(o.kernel)));
  const int pad = static_cast<int>(o.padding), stride = static_cast<int>(o.stride);
  CUTRAIN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(s->conv.get(), pad, pad, stride, stride, 1, 1,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  s->bias = detail::make_nchw_desc(1, o.out_channels, 1, 1);
  return s;
}
// Makes the layer's cuDNN state on first use, and anew for a context with the other math (plans
// are made for one).
void refresh_state(std::shared_ptr<Conv2d::CudnnState>& s, const Conv2dOptions& o,
                   const Context& ctx) {
  if (!s || s->tf32 != (ctx.float32_math() == Float32Math::TF32)) s = make_state(o, ctx);
}
}  // namespace

void Conv2d::forward_cuda(const BatchView& x, const BatchView& y, Context& ctx) {
  refresh_state(cudnn_, opt_, ctx);
  CudnnState::Plan& p = plan_for(*cudnn_, x, y, ctx);
  const float one = 1.0f, zero = 0.0f;
  cudnnHandle_t h = detail::cudnn_handle(ctx);
  run_choice(*cudnn_, p.fwd, ctx, "cudnnConvolutionForward",
             [&](cudnnConvolutionFwdAlgo_t algo, void* ws, size_t ws_bytes) {
               return cudnnConvolutionForward(h, &one, p.x.get(), x.data, cudnn_->w.get(),
                                              weight_.data(), cudnn_->conv.get(), algo, ws,
                                              ws_bytes, &zero, p.y.get(), y.data);
             });
  if (act_) {  // bias and the absorbed activation in one pass
    const kernels::ChannelDims d{y.batch(), y.shape[1], y.shape[2] * y.shape[3], y.batch_stride};
    kernels::launch_bias_activation_forward(detail::to_kernel(*act_), d, bias_.data(), y.data,
                                            ctx.stream());
    return;
  }
  CUTRAIN_CUDNN_CHECK(
      cudnnAddTensor(h, &one, cudnn_->bias.get(), bias_.data(), &one, p.y.get(), y.data));
}

void Conv2d::backward_cuda(const BatchView& x, const BatchView& dy, const BatchView* dx,
                           Context& ctx, bool bias_done) {
  refresh_state(cudnn_, opt_, ctx);
  CudnnState::Plan& p = plan_for(*cudnn_, x, dy, ctx);
  const float one = 1.0f, zero = 0.0f;
  cudnnHandle_t h = detail::cudnn_handle(ctx);
  if (!bias_done)
    CUTRAIN_CUDNN_CHECK(cudnnConvolutionBackwardBias(h, &one, p.y.get(), dy.data, &zero,
                                                     cudnn_->bias.get(), dbias_.data()));
  run_choice(*cudnn_, p.bwd_filter, ctx, "cudnnConvolutionBackwardFilter",
             [&](cudnnConvolutionBwdFilterAlgo_t algo, void* ws, size_t ws_bytes) {
               return cudnnConvolutionBackwardFilter(h, &one, p.x.get(), x.data, p.y.get(), dy.data,
                                                     cudnn_->conv.get(), algo, ws, ws_bytes, &zero,
                                                     cudnn_->w.get(), dweight_.data());
             });
  if (dx != nullptr)  // dx has x's batch stride (checked by backward_view)
    run_choice(*cudnn_, p.bwd_data, ctx, "cudnnConvolutionBackwardData",
               [&](cudnnConvolutionBwdDataAlgo_t algo, void* ws, size_t ws_bytes) {
                 return cudnnConvolutionBackwardData(h, &one, cudnn_->w.get(), weight_.data(),
                                                     p.y.get(), dy.data, cudnn_->conv.get(), algo,
                                                     ws, ws_bytes, &zero, p.x.get(), dx->data);
               });
}

}  // namespace cutrain
