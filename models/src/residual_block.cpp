#include "cutrain/models/residual_block.h"

#include "add.h"
#include "cutrain/error.h"

namespace cutrain {

namespace {
// out = a + b (relu'd), element-wise on ctx's device; out may be a or b.
void add(const Tensor& a, const Tensor& b, Tensor& out, bool relu, Context& ctx) {
  if (ctx.is_cuda())
    kernels::launch_add_forward(a.data(), b.data(), out.data(), out.numel(), relu, ctx.stream());
  else
    kernels::add_forward_cpu(a.data(), b.data(), out.data(), out.numel(), relu);
}

std::vector<Parameter> prefixed(const std::string& prefix, Layer* layer) {
  std::vector<Parameter> ps;
  if (layer == nullptr) return ps;
  for (Parameter p : layer->parameters()) {
    p.name = prefix + p.name;
    ps.push_back(p);
  }
  return ps;
}
}  // namespace

ResidualBlock::ResidualBlock(ResidualBlockOptions options) : opt_(options) {
  CUTRAIN_REQUIRE(opt_.in_channels > 0 && opt_.out_channels > 0 && opt_.stride > 0,
                  "ResidualBlock: channels and stride must be positive");
  CUTRAIN_REQUIRE(opt_.use_1x1conv || (opt_.in_channels == opt_.out_channels && opt_.stride == 1),
                  "ResidualBlock: an identity shortcut needs in == out channels and stride 1 "
                  "(use_1x1conv otherwise)");
  CUTRAIN_REQUIRE(opt_.use_1x1conv || !opt_.shortcut_bn,
                  "ResidualBlock: shortcut_bn needs use_1x1conv");
  const int64_t in = opt_.in_channels, out = opt_.out_channels;
  conv1_ = std::make_unique<Conv2d>(Conv2dOptions{in, out, 3, opt_.stride, 1});
  conv2_ = std::make_unique<Conv2d>(Conv2dOptions{out, out, 3, 1, 1});
  if (opt_.use_1x1conv)
    conv3_ = std::make_unique<Conv2d>(Conv2dOptions{in, out, 1, opt_.stride, 0});
  BatchNormOptions relu;
  relu.fuse_relu = true;
  bn1_ = BatchNorm2d(out, relu);
  bn2_ = BatchNorm2d(out);
  if (opt_.shortcut_bn) bn3_ = BatchNorm2d(out);
}

ResidualBlock::~ResidualBlock() = default;

Shape ResidualBlock::build(const Shape& in, Device device, Rng& rng) {
  if (in.size() != 4 || in[1] != opt_.in_channels)
    throw ConfigError("ResidualBlock: expected input [N, " + std::to_string(opt_.in_channels) +
                      ", H, W], got " + to_string(in));
  const Shape t = conv1_->build(in, device, rng);
  bn1_->build(t, device, rng);
  conv2_->build(t, device, rng);
  bn2_->build(t, device, rng);
  t1_ = Tensor(t, device);
  a1_ = Tensor(t, device);
  t2_ = Tensor(t, device);
  g_ = Tensor(t, device);
  d1_ = Tensor(t, device);
  d2_ = Tensor(t, device);
  if (conv3_) {
    if (conv3_->build(in, device, rng) != t)
      throw ConfigError("ResidualBlock: shortcut and main path shapes differ for " + to_string(in));
    sc_ = Tensor(t, device);
    dsc_ = Tensor(in, device);
    if (bn3_) {
      bn3_->build(t, device, rng);
      sc_bn_ = Tensor(t, device);
    }
  }
  return t;
}

void ResidualBlock::forward(const Tensor& x, Tensor& y, Context& ctx) {
  const int64_t n = x.dim(0);
  Tensor t1 = t1_.narrow_batch(n), a1 = a1_.narrow_batch(n), t2 = t2_.narrow_batch(n);
  conv1_->forward(x, t1, ctx);
  bn1_->forward(t1, a1, ctx);  // BN + ReLU
  conv2_->forward(a1, t2, ctx);
  bn2_->forward(t2, y, ctx);
  if (!conv3_) return add(y, x, y, /*relu=*/true, ctx);
  Tensor sc = sc_.narrow_batch(n);
  conv3_->forward(x, sc, ctx);
  if (!bn3_) return add(y, sc, y, true, ctx);
  Tensor sc_bn = sc_bn_.narrow_batch(n);
  bn3_->forward(sc, sc_bn, ctx);
  add(y, sc_bn, y, true, ctx);
}

// y = relu(s), s = bn2(t2) + shortcut: dL/ds = dy where y > 0 reaches both summands.
void ResidualBlock::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx,
                             Context& ctx) {
  const int64_t n = x.dim(0);
  Tensor t1 = t1_.narrow_batch(n), a1 = a1_.narrow_batch(n), t2 = t2_.narrow_batch(n);
  Tensor g = g_.narrow_batch(n), d1 = d1_.narrow_batch(n), d2 = d2_.narrow_batch(n);
  if (ctx.is_cuda())
    kernels::launch_add_backward(y.data(), dy.data(), g.data(), g.numel(), true, ctx.stream());
  else
    kernels::add_backward_cpu(y.data(), dy.data(), g.data(), g.numel(), true);
  // bn2 has no fused ReLU, so it never reads its output (y now holds the sum): pass t2.
  bn2_->backward(t2, t2, g, &d1, ctx);
  conv2_->backward(a1, t2, d1, &d2, ctx);
  bn1_->backward(t1, a1, d2, &d1, ctx);
  conv1_->backward(x, t1, d1, dx, ctx);
  if (!conv3_) {
    if (dx != nullptr) add(*dx, g, *dx, false, ctx);
    return;
  }
  Tensor sc = sc_.narrow_batch(n);
  const Tensor* gs = &g;
  if (bn3_) {
    bn3_->backward(sc, sc_bn_.narrow_batch(n), g, &d2, ctx);
    gs = &d2;
  }
  Tensor dsc = dsc_.narrow_batch(n);
  conv3_->backward(x, sc, *gs, dx != nullptr ? &dsc : nullptr, ctx);
  if (dx != nullptr) add(*dx, dsc, *dx, false, ctx);
}

// d2l's registration order: conv1, conv2, conv3, bn1, bn2 (then the optional shortcut BN).
std::vector<Parameter> ResidualBlock::parameters() {
  std::vector<Parameter> all;
  for (auto [prefix, layer] : std::vector<std::pair<std::string, Layer*>>{{"conv1.", conv1_.get()},
                                                                          {"conv2.", conv2_.get()},
                                                                          {"conv3.", conv3_.get()},
                                                                          {"bn1.", bn1_.get()},
                                                                          {"bn2.", bn2_.get()},
                                                                          {"bn3.", bn3_.get()}})
    for (const Parameter& p : prefixed(prefix, layer)) all.push_back(p);
  return all;
}

std::vector<NamedTensor> ResidualBlock::buffers() {
  std::vector<NamedTensor> all;
  for (auto [prefix, bn] : std::vector<std::pair<std::string, BatchNorm*>>{
           {"bn1.", bn1_.get()}, {"bn2.", bn2_.get()}, {"bn3.", bn3_.get()}}) {
    if (bn == nullptr) continue;
    for (NamedTensor b : bn->buffers()) {
      b.name = prefix + b.name;
      all.push_back(b);
    }
  }
  return all;
}

void ResidualBlock::set_training(bool training) {
  Layer::set_training(training);
  bn1_->set_training(training);
  bn2_->set_training(training);
  if (bn3_) bn3_->set_training(training);
}

void ResidualBlock::set_cumulative_statistics(bool on) {
  bn1_->set_cumulative_statistics(on);
  bn2_->set_cumulative_statistics(on);
  if (bn3_) bn3_->set_cumulative_statistics(on);
}

}  // namespace cutrain
