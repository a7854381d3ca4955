// Pool2d on cuDNN: tensor descriptors cached per batch size; max pooling uses the deterministic
// mode so repeated runs agree exactly.
#include <map>

#include "context_impl.h"
#include "cuda/cudnn_desc.h"
#include "cutrain/models/pooling.h"

namespace cutrain {

struct Pool2d::CudnnState {
  struct Plan {
    detail::TensorDesc x, y;
  };
  detail::PoolDesc pool;
  std::map<int64_t, Plan> plans;
};

namespace {
Pool2d::CudnnState::Plan& plan_for(Pool2d::CudnnState& s, const Shape& in, const Shape& out) {
  auto it = s.plans.find(in[0]);
  if (it != s.plans.end()) return it->second;
  Pool2d::CudnnState::Plan p{detail::make_nchw_desc(in[0], in[1], in[2], in[3]),
                             detail::make_nchw_desc(out[0], out[1], out[2], out[3])};
  return s.plans.emplace(in[0], std::move(p)).first->second;
}

std::shared_ptr<Pool2d::CudnnState> make_state(PoolMode mode, int64_t kernel, int64_t stride,
                                               int64_t padding) {
  auto s = std::make_shared<Pool2d::CudnnState>();
  const cudnnPoolingMode_t m = mode == PoolMode::Max ? CUDNN_POOLING_MAX_DETERMINISTIC
                                                     : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  // cuDNN's padding conventions are PyTorch's: max ignores the padding, and this average mode
  // counts it as zeros.
  const int k = static_cast<int>(kernel), st = static_cast<int>(stride);
  const int pad = static_cast<int>(padding);
  CUTRAIN_CUDNN_CHECK(cudnnSetPooling2dDescriptor(s->pool.get(), m, CUDNN_NOT_PROPAGATE_NAN, k, k,
                                                  pad, pad, st, st));
  return s;
}
}  // namespace

void Pool2d::forward_cuda(const Tensor& x, Tensor& y, Context& ctx) {
  if (!cudnn_) cudnn_ = make_state(mode_, kernel_, stride_, padding_);
  CudnnState::Plan& p = plan_for(*cudnn_, x.shape(), y.shape());
  const float one = 1.0f, zero = 0.0f;
  CUTRAIN_CUDNN_CHECK(cudnnPoolingForward(detail::cudnn_handle(ctx), cudnn_->pool.get(), &one,
                                          p.x.get(), x.data(), &zero, p.y.get(), y.data()));
}

void Pool2d::backward_cuda(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor& dx,
                           Context& ctx) {
  if (!cudnn_) cudnn_ = make_state(mode_, kernel_, stride_, padding_);
  CudnnState::Plan& p = plan_for(*cudnn_, x.shape(), y.shape());
  const float one = 1.0f, zero = 0.0f;
  CUTRAIN_CUDNN_CHECK(cudnnPoolingBackward(detail::cudnn_handle(ctx), cudnn_->pool.get(), &one,
                                           p.y.get(), y.data(), p.y.get(), dy.data(), p.x.get(),
                                           x.data(), &zero, p.x.get(), dx.data()));
}

}  // namespace cutrain
