// DenseBlock: the shared-buffer layout and its backward are described in dense_block.h.
#include "cutrain/models/dense_block.h"

#include "cutrain/batch_view.h"
#include "cutrain/error.h"

namespace cutrain {

DenseBlock::DenseBlock(DenseBlockOptions options) : opt_(options) {
  CUTRAIN_REQUIRE(opt_.in_channels > 0 && opt_.growth > 0 && opt_.convs > 0,
                  "DenseBlock: in_channels, growth and convs must be positive");
  BatchNormOptions relu;
  relu.fuse_relu = true;
  for (int64_t i = 0; i < opt_.convs; ++i) {
    bns_.push_back(BatchNorm2d(in_channels_of(i), relu));
    convs_.push_back(
        std::make_unique<Conv2d>(Conv2dOptions{in_channels_of(i), opt_.growth, 3, 1, 1}));
  }
}

DenseBlock::~DenseBlock() = default;

Shape DenseBlock::build(const Shape& in, Device device, Rng& rng) {
  if (in.size() != 4 || in[1] != opt_.in_channels)
    throw ConfigError("DenseBlock: expected input [N, " + std::to_string(opt_.in_channels) +
                      ", H, W], got " + to_string(in));
  in_shape_ = in;
  acts_.clear();
  for (int64_t i = 0; i < opt_.convs; ++i) {
    const Shape slice{in[0], in_channels_of(i), in[2], in[3]};
    bns_[i]->build(slice, device, rng);
    convs_[i]->build(slice, device, rng);
    acts_.emplace_back(slice, device);
  }
  const Shape out{in[0], out_channels(), in[2], in[3]};
  grad_ = Tensor(out, device);
  dact_ = Tensor(Shape{in[0], in_channels_of(opt_.convs - 1), in[2], in[3]}, device);
  return out;
}

void DenseBlock::forward(const Tensor& x, Tensor& y, Context& ctx) {
  const int64_t n = x.dim(0);
  const BatchView buf = BatchView::of(y);  // [n, C0 + convs*growth, H, W]
  copy_batch(BatchView::of(x), buf.channels(0, opt_.in_channels), ctx.stream());
  for (int64_t i = 0; i < opt_.convs; ++i) {
    const int64_t cin = in_channels_of(i);
    const BatchView act = BatchView::of(acts_[i]).narrow_batch(n);
    bns_[i]->forward_view(buf.channels(0, cin), act, ctx);  // BN + ReLU of the concatenation
    convs_[i]->forward_view(act, buf.channels(cin, opt_.growth), ctx);
  }
}

void DenseBlock::backward(const Tensor&, const Tensor& y, const Tensor& dy, Tensor* dx,
                          Context& ctx) {
  const int64_t n = y.dim(0);
  Tensor grad = grad_.narrow_batch(n);
  grad.copy_from(dy, ctx.stream());
  const BatchView g = BatchView::of(grad), buf = BatchView::of(y);
  for (int64_t i = opt_.convs; i-- > 0;) {
    const int64_t cin = in_channels_of(i);
    const BatchView act = BatchView::of(acts_[i]).narrow_batch(n);
    const BatchView dact{dact_.data(),
                         {n, cin, in_shape_[2], in_shape_[3]},
                         cin * in_shape_[2] * in_shape_[3],
                         dact_.device()};
    // Every later conv block has already added its part to this block's output slice.
    convs_[i]->backward_view(act, g.channels(cin, opt_.growth), &dact, ctx);
    const BatchView dslice = g.channels(0, cin);
    bns_[i]->backward_view(buf.channels(0, cin), act, dact, &dslice, ctx, /*accumulate_dx=*/true);
  }
  if (dx != nullptr) copy_batch(g.channels(0, opt_.in_channels), BatchView::of(*dx), ctx.stream());
}

// d2l: DenseBlock.net = Sequential(conv_block(...), ...), conv_block = Sequential(BN, ReLU, Conv).
std::vector<Parameter> DenseBlock::parameters() {
  std::vector<Parameter> all;
  for (int64_t i = 0; i < opt_.convs; ++i) {
    const std::string prefix = "net." + std::to_string(i) + ".";
    for (Parameter p : bns_[i]->parameters()) {
      p.name = prefix + "0." + p.name;
      all.push_back(p);
    }
    for (Parameter p : convs_[i]->parameters()) {
      p.name = prefix + "2." + p.name;
      all.push_back(p);
    }
  }
  return all;
}

std::vector<NamedTensor> DenseBlock::buffers() {
  std::vector<NamedTensor> all;
  for (int64_t i = 0; i < opt_.convs; ++i)
    for (NamedTensor b : bns_[i]->buffers()) {
      b.name = "net." + std::to_string(i) + ".0." + b.name;
      all.push_back(b);
    }
  return all;
}

void DenseBlock::set_training(bool training) {
  Layer::set_training(training);
  for (auto& bn : bns_) bn->set_training(training);
}

void DenseBlock::set_cumulative_statistics(bool on) {
  for (auto& bn : bns_) bn->set_cumulative_statistics(on);
}

}  // namespace cutrain
